"""The uploaded object an S3 "Object Created" EventBridge event names, as a pipeline.UploadedObject.

Shared by claim_source, which creates the workflow's ``source``, and record_failure, which must name
the file even when Claim itself failed and no ``source`` exists yet: one reading of the event, so
both key the same catalog item. The event is validated with Powertools' S3 EventBridge model; that
model keeps the key as S3 sent it (URL-encoded, a space as ``+``), so it is decoded here, once.

``object_created_event`` is the other direction, for whoever starts the workflow without S3 (a backfill,
``parakeet retry``, the local emulator): one writer of the event shape, beside its one reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

from pipeline.contracts import MISSING_ETAG, UploadedObject
from pipeline.outcomes import UnsupportedInput
from pipeline.s3uri import format_s3_uri

FOLDER_MARKER = "folder_marker"
# S3's EventBridge event once a cold upload's restored copy is readable (docs/ARCHIVES.md): the same
# detail shape as Object Created (bucket, key, etag, version-id) plus restore-expiry-time and
# source-storage-class; it starts the same workflow on the restored copy.
OBJECT_RESTORE_COMPLETED = "Object Restore Completed"


def ignore_reason(key: str, ignored_suffixes: Sequence[str] = ()) -> str | None:
    """Why a key is not a file to transcribe: ``folder_marker`` for keys ending in '/' (console
    "folders"), ``ignored_suffix:<s>`` for a configured ending, else None. The starter, Claim and the
    backfill all ask here."""
    if key.endswith("/"):
        return FOLDER_MARKER
    lowered = key.lower()
    for suffix in ignored_suffixes:
        if suffix and lowered.endswith(suffix.lower()):
            return f"ignored_suffix:{suffix}"
    return None


def parse_upload_event(raw_event: Mapping[str, Any]) -> S3EventNotificationEventBridgeModel:
    """The execution input is what S3/EventBridge (or a person) sent: not an S3 event is bad input."""
    try:
        return parse(event=dict(raw_event), model=S3EventNotificationEventBridgeModel)
    except ValidationError as exc:
        raise UnsupportedInput(f"not an S3 Object Created event: {_first_problem(exc)}") from exc


def uploaded_object(event: S3EventNotificationEventBridgeModel) -> UploadedObject:
    """Bucket, decoded key, unquoted ETag (``no-etag`` when absent), version, size and sequencer."""
    bucket = event.detail.bucket.name
    obj = event.detail.object
    key = unquote_plus(obj.key)
    if not bucket or not key:
        raise UnsupportedInput("S3 event without bucket name or object key")
    size = obj.size
    if size is not None and size != int(size):
        raise UnsupportedInput(f"object size {size!r} is not a whole number of bytes")
    return UploadedObject(
        bucket=bucket,
        key=key,
        etag=obj.etag.strip('"') or MISSING_ETAG,
        version_id=obj.version_id or None,
        size=None if size is None else int(size),
        uri=format_s3_uri(bucket, key),
        sequencer=getattr(obj, "sequencer", None) or None,
    )


def object_created_event(
    source: UploadedObject,
    *,
    account: str,
    region: str,
    time: str,
    event_id: str,
    request_id: str,
    reason: str,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """The EventBridge event S3 sends for ``source`` (what ``uploaded_object`` reads back): the key
    URL-encoded as S3 sends it; size, version and sequencer only when the source has them."""
    obj: dict[str, Any] = {"key": quote_plus(source.key, safe="/"), "etag": source.etag}
    if source.size is not None:
        obj["size"] = source.size
    if source.version_id:
        obj["version-id"] = source.version_id
    if source.sequencer:
        obj["sequencer"] = source.sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": source.bucket},
        "object": obj,
        "request-id": request_id,
        "requester": account,
    }
    if source_ip:
        detail["source-ip-address"] = source_ip
    detail["reason"] = reason
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": time,
        "region": region,
        "resources": [f"arn:aws:s3:::{source.bucket}"],
        "detail": detail,
    }


def uploaded_object_from_event(raw_event: Mapping[str, Any]) -> UploadedObject:
    return uploaded_object(parse_upload_event(raw_event))


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
