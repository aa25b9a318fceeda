"""Claim one uploaded object in the catalog so that exactly one execution transcribes it.

The claim is a single conditional PutItem keyed by (source_uri, etag): duplicate EventBridge
deliveries and identical re-uploads (same bytes, same ETag) find the item and stop, while a
file whose earlier run FAILED may be claimed again (re-uploading is the retry path).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from common.catalog import STATUS_CLAIMED, STATUS_FAILED, utc_now_iso
from contracts.errors import ZeroByteObject
from contracts.models import ClaimResult, ClaimSkipReason, UploadedObject

CLAIM_CONDITION = "attribute_not_exists(source_uri) OR #status = :failed"
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
    table: Any, source: UploadedObject, execution_arn: str | None, detail_type: str | None = None
) -> ClaimResult:
    """Conditionally write the CLAIMED item; a lost race is a normal outcome, not an error."""
    reason = ignore_reason(source, detail_type)
    if reason:
        return ClaimResult(claimed=False, source=source, reason=reason)
    if source.size == 0:
        raise ZeroByteObject(f"{source.uri} is empty (0 bytes)")

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
    try:
        table.put_item(
            Item=item,
            ConditionExpression=CLAIM_CONDITION,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":failed": STATUS_FAILED},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return ClaimResult(claimed=False, source=source, reason="already_claimed")
        raise
    return ClaimResult(claimed=True, source=source)
