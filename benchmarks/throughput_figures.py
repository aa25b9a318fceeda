"""Write functions/pipeline/throughput.json, the figures the planner's throughput model reads.

Why generated: the measurements live in benchmarks/results/ (cpu_stage.json from benchmarks/
cpu_stage.py; gpu/summary.json and gpu/encoder_decoder.json from benchmarks/gpu/run.sh), but the
Lambdas ship only functions/, and must not parse benchmark files (or import numpy). This copies the
few numbers the model needs, with where each came from; tests/unit/test_throughput.py holds the
committed file equal to what this script makes from the committed results.

Run: .venv/bin/python benchmarks/throughput_figures.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from pipeline.throughput import FIGURES_PATH, INSTANCE_OPTIONS, class_gpu  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
# Until benchmarks/gpu/run.sh runs on that GPU: the Open ASR Leaderboard lists RTFx ~3,300 for
# Parakeet-TDT-0.6B on an A100 at batch 128; an L40S is taken as in that range, an L4 as a third, and an
# H100 (the large class) no faster than the A100 until measured.
ASSUMED_GPU_RTFX = {"NVIDIA L4": 1100.0, "NVIDIA L40S": 3300.0, "NVIDIA H100 80GB": 3300.0}
ASSUMED_SOURCE = (
    "assumed: Open ASR Leaderboard A100 figure (~3,300x at batch 128); L4 ~1/3 of it; H100 taken as the A100"
)


def cpu_figure(results: Path) -> dict[str, Any]:
    doc = json.loads((results / "cpu_stage.json").read_text())
    head = next(r for r in doc["rows"] if r["format"] == doc["headline"])
    column = "gpu_host_worker" if "gpu_host_worker" in head else "cpu_worker"
    worst = max(doc["rows"], key=lambda r: r.get(column, 0.0))
    return {
        "ms_per_audio_s": head[column],
        "source": f"benchmarks/results/cpu_stage.json: {column}, {doc['headline']}",
        "ffmpeg_cli_ms_per_audio_s": head["ffmpeg_cli"],
        "worst_format": {"format": worst["format"], "ms_per_audio_s": worst[column]},
    }


def gpu_figures(results: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        gpu: {"value": v, "measured": False, "source": ASSUMED_SOURCE} for gpu, v in ASSUMED_GPU_RTFX.items()
    }
    summary, encdec = results / "gpu" / "summary.json", results / "gpu" / "encoder_decoder.json"
    if summary.exists() and encdec.exists():
        name = json.loads(encdec.read_text())["meta"].get("gpu") or ""
        gpu = class_gpu(name)
        best = json.loads(summary.read_text()).get("engine_best", {}).get("long")
        if gpu in INSTANCE_OPTIONS and best:
            out[gpu] = {
                "value": best["rtfx"],
                "measured": True,
                "source": f"benchmarks/results/gpu/summary.json: engine_best long on {name}",
            }
    return out


def make(results: Path = RESULTS) -> dict[str, Any]:
    return {"cpu": cpu_figure(results), "gpu_rtfx": gpu_figures(results)}


def main() -> int:
    FIGURES_PATH.write_text(json.dumps(make(), indent=1) + "\n", encoding="utf-8")
    print(FIGURES_PATH.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
