#!/usr/bin/env python3
"""What diarization adds to a transcription, on the same device: GPU seconds per audio hour, and the
ratio to ASR (issue 18's cost figure).

Both models are random-weight models of the production shapes (Parakeet-TDT-0.6B from
scripts/build_tiny_random_model.py --full-size; streaming Sortformer 4spk from
scripts/random_sortformer.py --full-size): the weights cannot be downloaded to the GPU machine, and
neither model's compute depends on them. The same file goes through the batched engine with Speakers
off and with Speakers 4 (gpu_job.speaker_track feeding SortformerStream the samples decoded for ASR),
alternating, several rounds; the difference is what diarization costs end to end, and the stream's
own time (measured inside) is its GPU-side cost.

    python benchmarks/gpu/diarization_cost.py --device cuda --model build/models/full_size_random_tdt.nemo \
        --seconds 600 --rounds 3 --out benchmarks/results/gpu/diarization_cost.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "functions"), str(REPO / "scripts")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", required=True)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="a small Sortformer (the CPU check)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import os

    import soundfile as sf
    import torch
    from random_sortformer import random_sortformer

    from gpu_job import api, diarization

    name = "random-sortformer-4spk" + ("-small" if args.small else "-full-size")
    sortformer = diarization.SortformerDiarizer.load_model(
        random_sortformer(not args.small).to(args.device), name
    )
    timed = {"seconds": 0.0}

    class TimedDiarizer:
        """The Sortformer, its stream's push and finish timed (synchronised on CUDA)."""

        def __init__(self) -> None:
            self.name = name

        def diarize(self, samples: np.ndarray, max_speakers: int) -> list:
            return sortformer.diarize(samples, max_speakers)

        def stream(self, max_speakers: int) -> object:
            inner = sortformer.stream(max_speakers)

            class Timed:
                def push(self, samples: np.ndarray) -> None:
                    t0 = time.perf_counter()
                    inner.push(samples)
                    if args.device.startswith("cuda"):
                        torch.cuda.synchronize()
                    timed["seconds"] += time.perf_counter() - t0

                def finish(self) -> list:
                    t0 = time.perf_counter()
                    turns = inner.finish()
                    timed["seconds"] += time.perf_counter() - t0
                    return turns

            return Timed()

    os.environ["GPU_JOB_DIARIZER"] = name
    diarization._LOADED[(name, str(torch.device(args.device)))] = TimedDiarizer()  # type: ignore[assignment]
    model = api.load_model(args.model, args.device)
    rng = np.random.default_rng(0)
    t = np.arange(int(args.seconds * 16000)) / 16000
    signal = (
        0.2 * np.sin(2 * np.pi * 200 * t) * (np.sin(t) > 0) + 0.02 * rng.standard_normal(t.size)
    ).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audio.wav"
        sf.write(path, signal, 16000, subtype="PCM_16")
        api.transcribe_many([str(path)], model, speakers=["off"])  # warm-up
        off, on, diarizer_s = [], [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            api.transcribe_many([str(path)], model, speakers=["off"])
            off.append(time.perf_counter() - t0)
            timed["seconds"] = 0.0
            t0 = time.perf_counter()
            (doc,) = api.transcribe_many([str(path)], model, speakers=["4"])
            on.append(time.perf_counter() - t0)
            diarizer_s.append(timed["seconds"])
            assert isinstance(doc, dict) and doc["speakers"]["used"] == "diarization", doc
    hours = args.seconds / 3600
    asr, both, diar = statistics.median(off), statistics.median(on), statistics.median(diarizer_s)
    result = {
        "benchmark": "diarization_cost",
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
        "audio_s": args.seconds,
        "rounds": args.rounds,
        "diarizer": name,
        "asr_s_per_audio_hour": round(asr / hours, 2),
        "asr_plus_diarization_s_per_audio_hour": round(both / hours, 2),
        "diarizer_s_per_audio_hour": round(diar / hours, 2),
        "diarizer_to_asr_ratio": round(diar / asr, 4),
        "end_to_end_ratio": round(both / asr, 4),
        "raw": {"off_s": off, "on_s": on, "diarizer_s": diarizer_s},
    }
    print(f"{'':28} {'s / audio hour':>15}")
    for key in ("asr_s_per_audio_hour", "asr_plus_diarization_s_per_audio_hour", "diarizer_s_per_audio_hour"):
        print(f"{key:28} {result[key]:15.1f}")
    print(
        f"diarizer / ASR {result['diarizer_to_asr_ratio']:.3f}; end to end x{result['end_to_end_ratio']:.3f}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
