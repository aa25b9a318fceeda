"""Claim one uploaded object in the catalog so that exactly one execution transcribes it.

The claim is a single conditional PutItem keyed by (source_uri, etag): duplicate EventBridge
deliveries and identical re-uploads (same bytes, same ETag) find the item and stop, while a
file whose earlier run FAILED may be claimed again (re-uploading is the retry path).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent
from botocore.exceptions import ClientError
from common.catalog import STATUS_CLAIMED, STATUS_FAILED, utc_now_iso
from common.errors import UnsupportedInput, ZeroByteObject
from common.s3uri import format_s3_uri

# Used as the sort key when an event carries no ETag: DynamoDB key attributes cannot be empty.
MISSING_ETAG = "no-etag"

CLAIM_CONDITION = "attribute_not_exists(source_uri) OR #status = :failed"
OBJECT_CREATED = "Object Created"


@dataclass(frozen=True)
class Source:
    """The Source shape of docs/CONTRACTS.md."""

    bucket: str
    key: str
    etag: str
    size: int | None
    version_id: str | None
    uri: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ClaimResult(TypedDict, total=False):
    claimed: bool
    source: dict[str, Any]
    reason: str


def unwrap_execution_input(payload: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Accept the ASL's ``{"event": $, "execution_arn": $$.Execution.Id}`` or the bare event."""
    if isinstance(payload.get("event"), dict):
        return payload["event"], payload.get("execution_arn")
    return payload, payload.get("execution_arn")


def source_from_event(raw_event: dict[str, Any]) -> Source:
    """Read the object identity from an S3 "Object Created" EventBridge event.

    Powertools' data class URL-decodes the key (S3 notifications carry it URL-encoded, a space
    arriving as ``+``); ETags arrive with or without quotes depending on the producer.
    """
    event = S3EventBridgeNotificationEvent(raw_event)
    try:
        bucket = event.detail.bucket.name
        key = event.detail.object.key
    except (KeyError, TypeError) as exc:
        raise UnsupportedInput(f"not an S3 Object Created event: missing {exc}") from exc
    if not bucket or not key:
        raise UnsupportedInput("S3 event without bucket name or object key")
    obj = raw_event["detail"]["object"]
    etag = str(obj.get("etag") or "").strip('"') or MISSING_ETAG
    try:
        size = int(obj["size"]) if obj.get("size") is not None else None
    except (TypeError, ValueError) as exc:
        raise UnsupportedInput(f"object size {obj.get('size')!r} is not an integer") from exc
    return Source(
        bucket=bucket,
        key=key,
        etag=etag,
        size=size,
        version_id=obj.get("version-id") or None,
        uri=format_s3_uri(bucket, key),
    )


def ignore_reason(source: Source, detail_type: str | None = None) -> str | None:
    """Defence in depth behind the EventBridge rule: events and objects that are not files to transcribe.

    Console "folders" are zero-byte keys ending in '/', so they are ignored before the
    zero-byte check would turn them into recorded failures. An event without ``detail-type``
    (hand-made, e.g. a backfill) is taken as Object Created.
    """
    if detail_type is not None and detail_type != OBJECT_CREATED:
        return "not_object_created"
    if source.key.endswith("/"):
        return "directory_marker"
    return None


def claim(
    table: Any, source: Source, execution_arn: str | None, detail_type: str | None = None
) -> ClaimResult:
    """Conditionally write the CLAIMED item; a lost race is a normal outcome, not an error."""
    reason = ignore_reason(source, detail_type)
    if reason:
        return {"claimed": False, "source": source.to_dict(), "reason": reason}
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
            return {"claimed": False, "source": source.to_dict(), "reason": "already_claimed"}
        raise
    return {"claimed": True, "source": source.to_dict()}
