"""The hourly sweep of restores that never completed (docs/ARCHIVES.md).

No execution waits for a restore (Deep Archive bulk takes up to 48 h): a RESTORING row ends when S3's
Object Restore Completed event starts the execution that claims it. If that event never comes (the
object was deleted while restoring, the restore was lost, the event was dropped after EventBridge's
retries), the row would say RESTORING for ever. The sweep reads RESTORING rows (the catalog's
``by-status`` index) whose ``archive.deadline`` (the tier's expected time + pipeline.archive.
RESTORE_GRACE) has passed and ends each one typed, after one HeadObject of the key:

* the key no longer holds the upload (deleted, or overwritten): SUPERSEDED, ``superseded_by`` naming
  what it holds now (``deleted: true`` for a deletion), as any other state would record it;
* it still holds it: ARCHIVED ``restore_timed_out``; a backfill (RestoreArchived on) claims the row
  again, and restores it or, if the copy is readable after all, transcribes it.

Each write is conditional on the row still being RESTORING, so a sweep racing the late event's
execution (which claims the row) changes nothing. Nothing here raises for one odd row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from lambda_runtime.observability import logger
from pipeline.catalog import (
    catalog_key,
    from_dynamo,
    set_expression,
    utc_now_iso,
)
from pipeline.contracts import ArchiveInfo, CompletionEvent, SupersededBy, UploadedObject
from pipeline.events import put_completion_event
from pipeline.exact_upload import current_object, describe, error_code, holds
from pipeline.outcomes import STATUS_ARCHIVED, STATUS_RESTORING, STATUS_SUPERSEDED
from pipeline.s3uri import format_s3_uri

STATUS_INDEX = "by-status"
RESTORE_TIMED_OUT = "restore_timed_out"
MAX_ROWS = 500  # per run; the next hour's run takes the rest


def overdue(row: dict[str, Any], now: datetime) -> bool:
    deadline = (row.get("archive") or {}).get("deadline")
    if not deadline:
        return False
    return datetime.fromisoformat(str(deadline).replace("Z", "+00:00")) <= now


def _upload(row: dict[str, Any]) -> UploadedObject:
    return UploadedObject(
        bucket=row["bucket"],
        key=row["key"],
        etag=row["etag"],
        version_id=row.get("version_id"),
        uri=format_s3_uri(row["bucket"], row["key"]),
    )


def _end(table: Any, upload: UploadedObject, attributes: dict[str, Any]) -> bool:
    """Write ``attributes`` only while the row still says RESTORING; whether it was written."""
    expression, names, values = set_expression(attributes)
    names["#status_guard"] = "status"
    values[":restoring"] = STATUS_RESTORING
    try:
        table.update_item(
            Key=catalog_key(upload.uri, upload.etag),
            UpdateExpression=expression,
            ConditionExpression="#status_guard = :restoring",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def end_overdue_restore(table: Any, s3: Any, events: Any, row: dict[str, Any]) -> str | None:
    """End one overdue RESTORING row typed; the status written, or None when the row moved on."""
    upload = _upload(row)
    archive = ArchiveInfo.model_validate(row["archive"])
    current = current_object(s3, upload.bucket, upload.key)
    if not holds(upload, current):
        superseded_by = SupersededBy(
            etag=current.get("etag"),
            version_id=current.get("version_id"),
            deleted=bool(current.get("deleted")),
        )
        status: Literal["SUPERSEDED", "ARCHIVED"] = STATUS_SUPERSEDED
        reason = "superseded"
        message = (
            f"restore of {upload.uri} did not complete by {archive.deadline}: "
            f"the key holds {describe(current)}"
        )
        extra: dict[str, Any] = {"superseded_by": superseded_by.model_dump(mode="json", exclude_none=True)}
    else:
        superseded_by = None
        status, reason = STATUS_ARCHIVED, RESTORE_TIMED_OUT
        message = (
            f"the {archive.tier} restore of {upload.uri} did not complete by {archive.deadline}; "
            "restore it again (a backfill with RestoreArchived on) to transcribe it"
        )
        extra = {}
    written = _end(
        table,
        upload,
        {"status": status, "reason": reason, "message": message, "updated_at": utc_now_iso(), **extra},
    )
    if not written:
        return None
    put_completion_event(
        events,
        CompletionEvent(
            status=status,
            upload=upload,
            reason=reason,
            message=message,
            superseded_by=superseded_by,
            archive=archive,
            execution_arn=row.get("failed_execution_arn"),
        ),
    )
    return status


def sweep_restores(table: Any, s3: Any, events: Any, now: datetime) -> dict[str, int]:
    """End every overdue RESTORING row (up to MAX_ROWS); counts by the status written."""
    counts: dict[str, int] = {}
    query: dict[str, Any] = {
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": Key("status").eq(STATUS_RESTORING),
    }
    seen = 0
    while seen < MAX_ROWS:
        page = table.query(**query)
        for item in page.get("Items", []):
            seen += 1
            row = from_dynamo(item)
            if not overdue(row, now):
                continue
            try:  # the index projects every attribute
                status = end_overdue_restore(table, s3, events, row)
            except Exception as exc:  # one odd row never stops the sweep; the next run tries again
                logger.warning(
                    "could not end an overdue restore",
                    extra={"row": row.get("source_uri"), "detail": repr(exc)},
                )
                continue
            if status:
                counts[status] = counts.get(status, 0) + 1
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return counts
