"""How long Summarise takes, and how much it holds, for a backfill's ResultWriter output of N objects.

The output is generated (tests/result_writer_output.py: AWS-shaped JSON Lines entries, ~700 bytes each,
served as a stream the way an S3 body is), then summarised by the function's own code
(backfill_item.summary). Time is measured without tracing; peak memory in a second pass under
tracemalloc (what Python allocates, the reading and the counting). S3 read time is not included: on
AWS, add the download of ~0.7 GB per million objects at the function's network throughput.

    .venv/bin/python benchmarks/backfill_summary.py [--items 10000 200000 1000000]

Prints a table and writes benchmarks/results/backfill_summary.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from backfill_item.summary import result_entries, summarise  # noqa: E402
from pipeline.backfill import ResultWriterDetails  # noqa: E402

from local_emulator.template import load_template  # noqa: E402
from tests.result_writer_output import BUCKET, GeneratedResults, entry_line  # noqa: E402

MIB = 1 << 20
LAMBDA_FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below


def run(items: int, traced: bool) -> tuple[float, int]:
    s3 = GeneratedResults(items, files=max(1, items // 200_000))
    details = ResultWriterDetails(Bucket=BUCKET, Key=s3.manifest_key)
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    summary = summarise(result_entries(s3, details))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    assert summary.total == items
    return elapsed, peak


def generation_s(items: int) -> float:
    """Time spent producing the lines (not Summarise's): subtracted from the measured time."""
    start = time.perf_counter()
    for index in range(items):
        entry_line(index)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 200_000, 1_000_000])
    args = parser.parse_args()
    function = load_template()["Resources"]["BackfillSummaryFunction"]["Properties"]
    memory_mb, timeout_s = int(function["MemorySize"]), int(function["Timeout"])
    cpu_share = min(1.0, memory_mb / LAMBDA_FULL_VCPU_MB)
    rows = []
    for items in args.items:
        total_s, _ = run(items, traced=False)
        summarise_s = max(0.0, total_s - generation_s(items))
        _, peak = run(min(items, 200_000), traced=True)
        us_per_entry = summarise_s / items * 1e6
        rows.append(
            {
                "items": items,
                "summarise_s": round(summarise_s, 2),
                "us_per_entry": round(us_per_entry, 1),
                "peak_mib": round(peak / MIB, 1),
                "peak_measured_at_items": min(items, 200_000),
                "bytes_read_mb": round(items * len(entry_line(items)) / 1e6),
            }
        )
    worst = max(r["us_per_entry"] for r in rows)
    # Objects one Summarise can count in its timeout, CPU-bound, at the function's CPU share.
    capacity = int(timeout_s / (worst / 1e6 / cpu_share))
    machine = platform.processor() or platform.machine()
    print(f"Summarise ({memory_mb} MB, {timeout_s} s; {cpu_share:.2f} vCPU on Lambda), measured on {machine}")
    print(f"{'items':>10} {'summarise s':>12} {'us/entry':>9} {'peak MiB':>9} {'read MB':>8}")
    for r in rows:
        print(
            f"{r['items']:>10} {r['summarise_s']:>12} {r['us_per_entry']:>9} {r['peak_mib']:>9}"
            f" {r['bytes_read_mb']:>8}"
        )
    print(
        f"CPU-bound capacity in {timeout_s} s at {cpu_share:.2f} vCPU: ~{capacity:,} objects"
        " (S3 read time not included)"
    )
    out = ROOT / "benchmarks" / "results" / "backfill_summary.json"
    function_info = {"memory_mb": memory_mb, "timeout_s": timeout_s, "cpu_share": cpu_share}
    out.write_text(
        json.dumps(
            {
                "function": function_info,
                "machine": platform.platform(),
                "rows": rows,
                "cpu_bound_capacity_objects": capacity,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
