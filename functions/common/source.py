"""The workflow's Source (docs/CONTRACTS.md) read from an S3 "Object Created" EventBridge event.

Shared by claim_source, which creates the Source, and record_failure, which must name the file
even when Claim itself failed and no Source exists yet: one definition of how an event names an
object, so both key the same catalog item.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from common.errors import UnsupportedInput
from common.s3uri import format_s3_uri

# Used as the sort key when an event carries no ETag: DynamoDB key attributes cannot be empty.
MISSING_ETAG = "no-etag"


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
