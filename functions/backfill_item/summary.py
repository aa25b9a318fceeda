"""Sum a backfill's per-object results into the counts its execution ends with (and the CLI prints).

The results are the Distributed Map's ResultWriter files in S3, not the state's payload (256 KiB, about
6,000 objects), so one run can cover millions of objects: ``manifest.json`` lists the ``SUCCEEDED_n``,
``FAILED_n`` and ``PENDING_n`` files. The ASL asks for ``WriterConfig`` ``{OutputType: JSONL,
Transformation: NONE}``: each file holds one child-execution entry per line, whose ``Output`` is the
item's result as a JSON string. AWS splits files by size, up to 5 GB each, so a file is never read whole:
its body is streamed and counted line by line, and memory is bounded by one read chunk plus one line,
not by the file or the run (tests/unit/test_backfill_summary_scale.py measures it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pipeline.backfill import (
    COUNTED_OUTCOMES,
    STARTED_OUTCOMES,
    BackfillItemResult,
    BackfillSummary,
    ResultWriterDetails,
    StorageClassCount,
)
from pydantic import ValidationError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


RESULT_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")
READ_CHUNK_BYTES = 1 << 20  # one S3 read; a line (an entry, ~1 KB) never spans more than a few
NOT_AN_OUTCOME = None  # an item whose backfill step failed (FAILED/PENDING entry): no outcome of ours


class MalformedResultError(ValueError):
    """A ResultWriter file or entry that is not what Step Functions writes: the summary would be wrong."""


def _read_json(s3: S3Client, bucket: str, key: str) -> Any:
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


def file_entries(s3: S3Client, bucket: str, key: str) -> Iterator[Any]:
    """The entries of one JSON Lines result file, parsed as its body streams in."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for number, line in enumerate(body.iter_lines(chunk_size=READ_CHUNK_BYTES), start=1):
        if not line.strip():
            continue
        where = f"s3://{bucket}/{key} line {number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise MalformedResultError(f"{where} is not a JSON entry: {error}") from error
        yield entry_result(entry, where)


def result_entries(s3: S3Client, details: ResultWriterDetails) -> Iterator[Any]:
    """Every item's result, file by file, from the manifest ResultWriter wrote."""
    manifest = _read_json(s3, details.Bucket, details.Key)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("ResultFiles"), dict):
        raise MalformedResultError(f"s3://{details.Bucket}/{details.Key} has no ResultFiles")
    bucket = str(manifest.get("DestinationBucket") or details.Bucket)
    for status in RESULT_STATUSES:
        for result_file in manifest["ResultFiles"].get(status, []):
            yield from file_entries(s3, bucket, result_file["Key"])


def class_label(result: BackfillItemResult) -> str:
    """``GLACIER``, ``STANDARD``...; ``INTELLIGENT_TIERING/DEEP_ARCHIVE_ACCESS`` for an archived one."""
    label = result.storage_class or "STANDARD"
    return f"{label}/{result.archive_status}" if result.archive_status else label


def summarise(results: Iterable[Any], dry_run: bool = False) -> BackfillSummary:
    outcomes: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    objects: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    errors = total = restores = 0
    for raw in results:
        total += 1
        try:
            result = BackfillItemResult.model_validate(raw)
        except ValidationError:
            errors += 1  # a failed item (within ToleratedFailurePercentage): no outcome of ours
            continue
        outcomes[result.outcome] += 1
        restores += bool(result.restore_requested)
        if result.outcome == "skipped":
            skipped[result.reason or "unknown"] += 1
        elif result.outcome != "already_started":
            objects[class_label(result)] += 1
            sizes[class_label(result)] += result.size or 0
    counts: dict[str, Any] = {name: outcomes[name] for name in COUNTED_OUTCOMES}
    return BackfillSummary(
        dry_run=dry_run,
        total=total,
        started=sum(outcomes[n] for n in STARTED_OUTCOMES),
        skipped=dict(sorted(skipped.items())),
        would_start=outcomes["would_start"] + outcomes["would_retry"],
        would_retry=outcomes["would_retry"],
        item_errors=errors,
        restores_requested=restores,
        storage_classes={
            label: StorageClassCount(objects=objects[label], bytes=sizes[label]) for label in sorted(objects)
        },
        **counts,
    )
