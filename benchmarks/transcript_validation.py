"""How long Postprocess's transcript validation takes on a 20-hour transcript (~200k words, ~23 MB).

The test (tests/unit/test_common_helpers.py) specifies that every word is checked; this measures the
cost, which a return to per-object Python validation would multiply (jsonschema took ~25 s, jsonschema
plus a word loop ~3 s). Wall and CPU seconds, best of --repeat runs:

    .venv/bin/python benchmarks/transcript_validation.py [--repeat 3]

Prints a table and writes benchmarks/results/transcript_validation.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from pipeline.transcript_reader import validate_transcript  # noqa: E402

from tests.unit.test_common_helpers import twenty_hour_transcript  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "transcript_validation.json")
    args = parser.parse_args(argv)
    body = twenty_hour_transcript()
    runs = []
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        document = validate_transcript(body)
        runs.append({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
    best = min(runs, key=lambda r: r["cpu_s"])
    result = {
        "words": len(document.words),
        "segments": len(document.segments),
        "json_bytes": len(body),
        "best": best,
        "runs": runs,
        "machine": platform.platform(),
        "python": platform.python_version(),
    }
    print(f"{'words':>8} {'MB':>6} {'wall s':>8} {'cpu s':>8}")
    print(f"{result['words']:>8} {len(body) / 1e6:>6.1f} {best['wall_s']:>8.2f} {best['cpu_s']:>8.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
