"""Claim one uploaded object in the catalog so that exactly one execution transcribes it.

The claim is a single conditional PutItem keyed by (source_uri, etag): duplicate EventBridge
deliveries and identical re-uploads (same bytes, same ETag) find the item and stop, while a
file whose earlier run FAILED may be claimed again (re-uploading is the retry path), and so may
one whose earlier run was SUPERSEDED (the same bytes uploaded again after another upload).

Before claiming, one HeadObject asks S3 what the key holds now: an event that arrives after the
key was overwritten (late, redelivered, out of order) names an upload that is gone, and ends
SUPERSEDED at once (SourceSuperseded), with no probe and no GPU job (contracts.ownership).
A retried Claim whose first attempt wrote the item (the answer was lost) finds its own
execution's item and proceeds.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from common.catalog import STATUS_CLAIMED, STATUS_FAILED, STATUS_SUPERSEDED, utc_now_iso
from contracts.errors import ZeroByteObject
from contracts.models import ClaimResult, ClaimSkipReason, UploadedObject
from contracts.ownership import ensure_current

CLAIM_CONDITION = "attribute_not_exists(source_uri) OR #status = :failed OR #status = :superseded"
OBJECT_CREATED = "Object Created"


def ignore_reason(source: UploadedObject, detail_type: str | None = None) -> ClaimSkipReason | None:
    """Defence in depth behind the EventBridge rule: events and objects that are not files to transcribe.

    Console "folders" are zero-byte keys ending in '/', so they are ignored before the
    zero-byte check would turn them into recorded failures. ``detail_type`` None (a caller with no
    event, e.g. a backfill) is taken as Object Created.
    """
    if detail_type is not None and detail_type != OBJECT_CREATED:
        return "not_object_created"
    if source.key.endswith("/"):
        return "directory_marker"
    return None


def claim(
    table: Any, source: UploadedObject, execution_arn: str | None, detail_type: str | None = None,
    s3: Any = None,
) -> ClaimResult:
    """Conditionally write the CLAIMED item; a lost race is a normal outcome, not an error.

    ``s3`` (the input bucket's client) checks that the key still holds the upload first; None skips it.
    """
    reason = ignore_reason(source, detail_type)
    if reason:
        return ClaimResult(claimed=False, source=source, reason=reason)
    if source.size == 0:
        raise ZeroByteObject(f"{source.uri} is empty (0 bytes)")
    if s3 is not None:
        ensure_current(s3, source)  # SourceSuperseded when the key holds a newer upload

    now = utc_now_iso()
    item: dict[str, Any] = {
        "source_uri": source.uri,
        "etag": source.etag,
        "status": STATUS_CLAIMED,
        "bucket": source.bucket,
        "key": source.key,
        "claimed_at": now,
        "updated_at": now,
    }
    if source.size is not None:
        item["size"] = source.size
    if source.version_id:
        item["version_id"] = source.version_id
    if execution_arn:
        item["execution_arn"] = execution_arn
    if source.sequencer:
        item["sequencer"] = source.sequencer
    try:
        table.put_item(
            Item=item,
            ConditionExpression=CLAIM_CONDITION,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":failed": STATUS_FAILED, ":superseded": STATUS_SUPERSEDED},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            held = exc.response.get("Item") or {}
            held_by = (held.get("execution_arn") or {}).get("S") if isinstance(held, dict) else None
            if execution_arn and held_by == execution_arn:
                return ClaimResult(claimed=True, source=source)  # our own first attempt wrote it
            return ClaimResult(claimed=False, source=source, reason="already_claimed")
        raise
    return ClaimResult(claimed=True, source=source)
