"""Step 5 of benchmarks/gpu/run.sh: the engine end to end on 4 vCPUs as a fraction of encoder+decoder
alone, and the GPU's utilisation over that run (docs/CPU_STAGE.md).

Why: a g6.xlarge or g6e.xlarge gives its GPU 4 vCPUs. run.sh runs benchmarks/engine_throughput.py
under `taskset -c 0-3` (the whole process: CPU workers, the device front end's thread, the GPU
thread, post-processing) while `nvidia-smi` samples utilisation.gpu; this reads that run's JSON,
the encoder/decoder-alone figures of step 2 and the samples, and writes `cpu_capped.json`. The
goal (issue 20): end to end >= 80 % of encoder+decoder alone. Encoder+decoder alone is the best
`windows` row at the engine's window length (transcribe_batch on ready-made windows: no CPU stage),
else 1 / (1/encoder + 1/decoder) at the encoder's best batch.

Missing inputs are an error (exit 1), never a silent skip: run.sh is run rarely, on borrowed time.
Usage: python benchmarks/gpu/cpu_capped.py RESULTS_DIR [--window-s 20] [--vcpus 4]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

GOAL = 0.80


def alone_rtfx(rows: list[dict[str, Any]], window_s: float) -> tuple[float, str]:
    windows = [
        r for r in rows if r.get("section") == "windows" and r.get("rtfx") and r.get("window_s") == window_s
    ]
    if windows:
        best = max(windows, key=lambda r: r["rtfx"])
        return float(best["rtfx"]), f"windows {window_s:g} s, batch {best.get('batch_size')}"
    enc = [r for r in rows if r.get("section") == "encoder" and r.get("rtfx")]
    dec = [r for r in rows if r.get("section") == "decoder" and r.get("rtfx")]
    if not enc or not dec:
        raise SystemExit("cpu_capped: encoder_decoder.json has neither windows nor encoder+decoder rows")
    e = max(enc, key=lambda r: r["rtfx"])["rtfx"]
    d = dec[0]["rtfx"]
    return 1.0 / (1.0 / e + 1.0 / d), "1/(1/encoder + 1/decoder)"


def utilisation(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    samples = [float(line.split(",")[0]) for line in path.read_text().splitlines() if line.strip()]
    if not samples:
        return None
    busy = sorted(samples)
    return {
        "samples": len(samples),
        "mean_pct": round(sum(samples) / len(samples), 1),
        "p50_pct": busy[len(busy) // 2],
        "max_pct": busy[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("--window-s", type=float, default=20.0)
    parser.add_argument("--vcpus", type=int, default=4)
    parser.add_argument("--require-utilisation", action="store_true")
    args = parser.parse_args(argv)
    missing = [p for p in ("encoder_decoder.json", "engine_cpu4.json") if not (args.results / p).exists()]
    if missing:
        print(f"cpu_capped: missing {', '.join(missing)} in {args.results}", file=sys.stderr)
        return 1
    rows = json.loads((args.results / "encoder_decoder.json").read_text())["rows"]
    alone, how = alone_rtfx(rows, args.window_s)
    engine = [
        r
        for r in json.loads((args.results / "engine_cpu4.json").read_text())["rows"]
        if r.get("mode") == "batched" and r.get("rtfx")
    ]
    if not engine:
        print("cpu_capped: engine_cpu4.json has no batched row", file=sys.stderr)
        return 1
    best = max(engine, key=lambda r: r["rtfx"])
    util = utilisation(args.results / "gpu_util_cpu4.csv")
    if util is None and args.require_utilisation:
        print("cpu_capped: no GPU utilisation samples (gpu_util_cpu4.csv)", file=sys.stderr)
        return 1
    fraction = best["rtfx"] / alone
    out = {
        "vcpus": args.vcpus,
        "engine_rtfx": best["rtfx"],
        "engine_row": best,
        "encoder_decoder_alone_rtfx": round(alone, 1),
        "alone_from": how,
        "fraction": round(fraction, 3),
        "goal": GOAL,
        "meets_goal": fraction >= GOAL,
        "gpu_utilisation": util,
    }
    (args.results / "cpu_capped.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
