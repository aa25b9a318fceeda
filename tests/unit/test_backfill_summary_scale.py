"""A backfill of 200,000 objects is summarised within the Summarise Lambda's memory (issue 22: the
result files were read whole, up to GBs, into a 256 MB function). Time is measured, not asserted, by
benchmarks/backfill_summary.py."""

from __future__ import annotations

import tracemalloc

import pytest
from backfill_item.summary import result_entries, summarise
from pipeline.backfill import ResultWriterDetails

from local_emulator.template import load_template
from tests.result_writer_output import BUCKET, GeneratedResults

ITEMS = 200_000
MIB = 1 << 20


@pytest.mark.slow  # 200,000 entries generated and read (make unit leaves it to make test)
def test_a_200000_object_run_is_summarised_in_a_small_fraction_of_the_functions_memory() -> None:
    # Given a run's ResultWriter output of 200,000 entries (~140 MB of JSON Lines) in one result file,
    # the worst case for memory (AWS splits files by size, up to 5 GB each)
    s3 = GeneratedResults(ITEMS, files=1)
    details = ResultWriterDetails(Bucket=BUCKET, Key=s3.manifest_key)
    # When Summarise reads it, with every allocation traced
    tracemalloc.start()
    try:
        summary = summarise(result_entries(s3, details))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Then every entry counts, once
    expected = s3.expected_counts()
    assert summary.total == ITEMS and summary.item_errors == 0
    assert (summary.transcribed, summary.failed) == (expected["transcribed"], expected["failed"])
    assert summary.skipped == {
        "ignored_suffix": expected["skipped.ignored_suffix"],
        "transcribed": expected["skipped.transcribed"],
    }
    assert s3.reads == [s3.manifest_key, *s3.ranges]
    # and what it held at its peak is a few read chunks, not the file: under 5% of the function's memory
    # (the rest is the runtime, boto3 and its connection pool)
    memory_mb = int(load_template()["Resources"]["BackfillSummaryFunction"]["Properties"]["MemorySize"])
    assert peak < 0.05 * memory_mb * MIB, f"peak {peak / MIB:.1f} MiB of a {memory_mb} MB function"
    assert peak < 16 * MIB  # bounded by the chunk size (1 MiB), not by the 140 MB read
