"""Print the GPU run's headline figures from its JSON (benchmarks/gpu/run.sh, step 4).

Why separate: the figures that matter (encoder-only RTFx at its best batch, the decoder's share, and
the engine end to end as a fraction of encoder-only) combine two result files; this reads them and
writes `summary.json` next to them, so the fraction is computed, never copied by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _rows(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["rows"] if path.exists() else []


def main(results: Path) -> None:
    enc = _rows(results / "encoder_decoder.json")
    e2e = _rows(results / "engine_throughput.json")
    summary: dict[str, Any] = {}
    encoder = [r for r in enc if r["section"] == "encoder" and "rtfx" in r]
    if encoder:
        best = max(encoder, key=lambda r: r["rtfx"])
        summary["encoder_best"] = best
    decoder = [r for r in enc if r["section"] == "decoder"]
    if decoder:
        summary["decoder"] = decoder[0]
    engine = [r for r in e2e if r["mode"] == "batched"]
    if engine:
        summary["engine_best"] = {
            w: max((r for r in engine if r["workload"] == w), key=lambda r: r["rtfx"])
            for w in {r["workload"] for r in engine}
        }
        if encoder:
            summary["engine_fraction_of_encoder"] = {
                w: round(r["rtfx"] / summary["encoder_best"]["rtfx"], 3)
                for w, r in summary["engine_best"].items()
            }
    summary["windows"] = [r for r in enc if r["section"] == "windows"]
    summary["modes"] = [r for r in enc if r["section"] == "modes"]
    (results / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k not in ("windows", "modes")}, indent=1))
    for r in summary["windows"] + summary["modes"]:
        print(r)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
