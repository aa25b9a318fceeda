"""Which maximum window length should the batched engine use? Accuracy and throughput per length.

Why: windows are cut at pauses (gpu_job.engine.windows), but speech that runs on longer than
`max_window_s` is cut at its least speech-like moment, and a window only sees its own context. Short
windows batch with less padding and cost less attention; long ones keep more context and are cut
less often. This runs the engine over the same audio (benchmarks/engine_media.py) at each
`--lengths` and records WER (with the tiny speech model; not meaningful with random weights),
RTFx, window count and mean window length, for each `--max-gaps` (the longest pause kept inside a
window: with the default 1 s most windows end at a pause long before the maximum; 3.5 s keeps this
corpus's 0.5-3 s pauses inside, so windows fill up to the maximum); on CUDA the per-length memory is in
benchmarks/gpu/encoder_decoder.py's `windows` section.

    python benchmarks/engine_window_length.py    # CPU, tiny speech model -> results/engine_window_length.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_media import DEFAULT_DIR, load
from engine_throughput import REPO, SPEECH_MODEL, run_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default=str(SPEECH_MODEL))
    parser.add_argument("--media", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--lengths", type=float, nargs="+", default=[5, 10, 20, 30, 45, 60])
    parser.add_argument("--max-gaps", type=float, nargs="+", default=[1.0, 3.5])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "engine_window_length.json"
    )
    args = parser.parse_args()
    os.environ.setdefault("GPU_JOB_CPU_THREADS", "1")
    args.score = Path(args.model).resolve() == SPEECH_MODEL.resolve()
    args.batch_audio_s, args.workers = None, 2

    from gpu_job import api

    model = api.load_model(args.model, args.device)
    media = load(args.media)
    rows: list[dict[str, Any]] = []
    for workload in ("long", "pool"):
        files = media[workload]
        audio_s = sum(f.duration for f in files)
        for gap, length in [(g, n) for g in args.max_gaps for n in args.lengths]:
            args.max_window_s, args.max_gap_s = length, gap
            row = run_engine(model, files, args.batch_size, args)
            row = {
                "device": args.device,
                "model": Path(args.model).name,
                "workload": workload,
                "max_window_s": length,
                "max_gap_s": gap,
                "audio_s": round(audio_s, 1),
                **row,
                "mean_window_s": round(row["speech_s"] / max(row["windows"], 1), 2),
                "rtfx": round(audio_s / row["wall_s"], 1),
            }
            rows.append(row)
            print(
                f"{workload:5} gap {gap}s max {length:4.0f}s windows {row['windows']:4} "
                f"mean {row['mean_window_s']:5.1f}s WER {row['wer']} RTFx {row['rtfx']}",
                flush=True,
            )
    args.out.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
