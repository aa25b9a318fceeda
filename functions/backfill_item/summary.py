"""Sum a backfill's per-object results into the counts its execution ends with (and the CLI prints).

The results are the Distributed Map's ResultWriter files in S3, not the state's payload (256 KiB, about
6,000 objects), so one run can cover millions of objects: ``manifest.json`` lists the ``SUCCEEDED_n``,
``FAILED_n`` and ``PENDING_n`` files, each a JSON array of child-execution entries whose ``Output`` is the
item's result as a JSON string. They are read one file at a time and counted as they go, so memory is
bounded by the largest file, not by the run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from contracts.backfill import BackfillItemResult, BackfillSummary, ResultWriterDetails
from pydantic import ValidationError

STARTED = ("transcribed", "failed", "already_claimed", "superseded")
RESULT_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")
NOT_AN_OUTCOME = None  # an item whose backfill step failed (FAILED/PENDING entry): no outcome of ours


class MalformedResultError(ValueError):
    """A ResultWriter file or entry that is not what Step Functions writes: the summary would be wrong."""


def _read_json(s3: Any, bucket: str, key: str) -> Any:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except json.JSONDecodeError as error:
        raise MalformedResultError(f"s3://{bucket}/{key} is not JSON: {error}") from error


def entry_result(entry: Any, where: str) -> Any:
    """One ResultWriter entry -> the item's output (SUCCEEDED) or NOT_AN_OUTCOME (FAILED, PENDING)."""
    if not isinstance(entry, dict) or entry.get("Status") not in RESULT_STATUSES:
        raise MalformedResultError(f"{where}: not a ResultWriter entry with a Status: {str(entry)[:200]}")
    if entry["Status"] != "SUCCEEDED":
        return NOT_AN_OUTCOME
    if not isinstance(entry.get("Output"), str):
        raise MalformedResultError(f"{where}: a SUCCEEDED entry without its Output (a JSON string)")
    try:
        return json.loads(entry["Output"])
    except json.JSONDecodeError as error:
        raise MalformedResultError(f"{where}: Output is not JSON: {error}") from error


def result_entries(s3: Any, details: ResultWriterDetails) -> Iterator[Any]:
    """Every item's result, file by file, from the manifest ResultWriter wrote."""
    manifest = _read_json(s3, details.Bucket, details.Key)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("ResultFiles"), dict):
        raise MalformedResultError(f"s3://{details.Bucket}/{details.Key} has no ResultFiles")
    bucket = str(manifest.get("DestinationBucket") or details.Bucket)
    for status in RESULT_STATUSES:
        for result_file in manifest["ResultFiles"].get(status, []):
            entries = _read_json(s3, bucket, result_file["Key"])
            if not isinstance(entries, list):
                raise MalformedResultError(f"s3://{bucket}/{result_file['Key']} is not a JSON array")
            for index, entry in enumerate(entries):
                yield entry_result(entry, f"s3://{bucket}/{result_file['Key']}[{index}]")
            del entries  # one file in memory at a time


def summarise(results: Iterable[Any], dry_run: bool = False) -> BackfillSummary:
    outcomes: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    errors = total = 0
    for raw in results:
        total += 1
        try:
            result = BackfillItemResult.model_validate(raw)
        except ValidationError:
            errors += 1  # a failed item (within ToleratedFailurePercentage): no outcome of ours
            continue
        outcomes[result.outcome] += 1
        if result.outcome == "skipped":
            skipped[result.reason or "unknown"] += 1
    counts: dict[str, Any] = {name: outcomes[name] for name in
                              ("transcribed", "failed", "already_started", "already_claimed", "superseded")}
    return BackfillSummary(
        dry_run=dry_run, total=total, started=sum(outcomes[n] for n in STARTED),
        skipped=dict(sorted(skipped.items())), would_start=outcomes["would_start"] + outcomes["would_retry"],
        would_retry=outcomes["would_retry"], item_errors=errors, **counts)
