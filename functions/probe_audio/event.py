"""Which object to probe: the Claim step's Source, or a raw S3 "Object Created" EventBridge event.

The workflow passes ``$.claim.source`` (key already decoded); accepting the raw event as well lets
the function be invoked on its own (console tests, a backfill that skips the claim).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from common.errors import UnsupportedInput

# claim_source writes this when the event had no ETag; it is not a value S3 can match.
_NO_ETAG = "no-etag"


@dataclass(frozen=True)
class Target:
    bucket: str
    key: str
    etag: str | None
    version_id: str | None
    size: int | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def target_from_event(event: dict[str, Any]) -> Target:
    if "detail" in event:
        return _from_eventbridge(event)
    if "bucket" in event and "key" in event:
        return _target(event["bucket"], event["key"], event.get("etag"), event.get("version_id"),
                       event.get("size"))
    raise UnsupportedInput("expected a Source {bucket, key, ...} or an S3 Object Created event")


def _from_eventbridge(event: dict[str, Any]) -> Target:
    try:
        detail = event["detail"]
        bucket = detail["bucket"]["name"]
        obj = detail["object"]
        # S3 notifications URL-encode the key with '+' for spaces (form encoding).
        key = unquote_plus(obj["key"])
    except (KeyError, TypeError) as exc:
        raise UnsupportedInput(f"not an S3 Object Created event: missing {exc}") from exc
    return _target(bucket, key, obj.get("etag"), obj.get("version-id"), obj.get("size"))


def _target(bucket: Any, key: Any, etag: Any, version_id: Any, size: Any) -> Target:
    if not bucket or not key:
        raise UnsupportedInput("event without bucket name or object key")
    clean_etag = str(etag).strip('"') if etag else None
    if clean_etag == _NO_ETAG:
        clean_etag = None
    return Target(
        bucket=str(bucket),
        key=str(key),
        etag=clean_etag or None,
        version_id=str(version_id) if version_id else None,
        size=int(size) if size is not None else None,
    )
