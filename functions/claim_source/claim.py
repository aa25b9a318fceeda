"""Claim one uploaded object in the catalog so that exactly one execution transcribes it.

The claim is a single conditional PutItem keyed by (source_uri, etag): duplicate EventBridge
deliveries and identical re-uploads (same bytes, same ETag) find the item and stop, while a
file whose earlier run FAILED may be claimed again (re-uploading is the retry path), and so may
one whose earlier run was SUPERSEDED (the same bytes uploaded again after another upload).

Before claiming, one HeadObject asks S3 what the key holds now: an event that arrives after the
key was overwritten (late, redelivered, out of order) names an upload that is gone, and ends
SUPERSEDED at once (SourceSuperseded), with no probe and no GPU job (pipeline.exact_upload).
A retried Claim whose first attempt wrote the item (the answer was lost) finds its own
execution's item and proceeds.

A, B, then A again (identical bytes, so A's row is found TRANSCRIBED): the key's outputs hold B's
words, and the newest upload owns them. So a TRANSCRIBED row is claimed again when the key's
transcript.json names another upload's ETag as its owner (one HeadObject of the output); when it
names these bytes (or there is none) the re-upload ends at AlreadyClaimed, with no second GPU job.
The re-claim is itself conditional on the row still being TRANSCRIBED: of two racing re-uploads, one
transcribes (docs/EXACT_BYTES.md).

A claim of a RESTORING row (S3's restore-completed event started this execution) keeps the row's
``archive``: the TRANSCRIBED row then still says which archive and tier the bytes were restored from,
which ``parakeet cost`` prices (docs/ARCHIVES.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pipeline import uploads
from pipeline.catalog import catalog_key, utc_now_iso
from pipeline.contracts import ClaimResult, ClaimSkipReason, UploadedObject
from pipeline.exact_upload import (
    META_ETAG,
    OUTPUT_ABSENT,
    TRANSCRIPT_JSON,
    ensure_current,
    error_code,
    output_file,
    output_prefix,
)
from pipeline.outcomes import (
    STATUS_ARCHIVED,
    STATUS_CLAIMED,
    STATUS_FAILED,
    STATUS_RESTORING,
    STATUS_SUPERSEDED,
    STATUS_TRANSCRIBED,
    ZeroByteObject,
)
from pipeline.s3uri import parse_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client


# ARCHIVED and RESTORING rows are claimable (docs/ARCHIVES.md): the restore-completed event's execution
# claims the RESTORING row (once: a duplicate event then finds it CLAIMED), and a re-run (a backfill with
# RestoreArchived on, `parakeet retry`) may restore an ARCHIVED one.
CLAIM_CONDITION = (
    "attribute_not_exists(source_uri) OR #status IN (:failed, :superseded, :archived, :restoring)"
)
RECLAIM_CONDITION = "#status = :transcribed"
OBJECT_CREATED = "Object Created"


def ignore_reason(source: UploadedObject, detail_type: str | None = None) -> ClaimSkipReason | None:
    """Defence in depth behind the EventBridge rule: events and objects that are not files to transcribe.

    Console "folders" are zero-byte keys ending in '/', so they are ignored before the
    zero-byte check would turn them into recorded failures. ``detail_type`` None (a caller with no
    event, e.g. a backfill) is taken as Object Created.
    """
    if detail_type is not None and detail_type not in (OBJECT_CREATED, uploads.OBJECT_RESTORE_COMPLETED):
        return "not_object_created"
    if uploads.ignore_reason(source.key) == uploads.FOLDER_MARKER:
        return "folder_marker"
    return None


def outputs_owner_etag(s3: S3Client, output_bucket: str, key: str) -> str | None:
    """The ETag of the upload whose words the key's transcript.json holds (None: no transcript)."""
    try:
        location = parse_s3_uri(output_file(output_prefix(output_bucket, key), TRANSCRIPT_JSON))
        head = s3.head_object(Bucket=location.bucket, Key=location.key)
    except Exception as exc:
        if error_code(exc) in OUTPUT_ABSENT:
            return None
        raise
    metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
    return metadata.get(META_ETAG)


def _held_status(held: Any) -> str | None:
    status = held.get("status") if isinstance(held, dict) else None
    return status.get("S") if isinstance(status, dict) else None


def _put_claim(table: Table, item: dict[str, Any], condition: str, values: dict[str, str]) -> dict[str, Any]:
    """The conditional claim; returns the row it replaced (empty for a new one)."""
    response = table.put_item(
        Item=item,
        ConditionExpression=condition,
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=values,
        ReturnValues="ALL_OLD",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    return dict(response.get("Attributes") or {})


def _keep_restore(table: Table, item: dict[str, Any], replaced: dict[str, Any]) -> None:
    """Carry a RESTORING row's ``archive`` onto the claim that replaced it (module doc). Conditional on
    the claim being ours still: if another execution has claimed the row since, it is left alone."""
    if replaced.get("status") != STATUS_RESTORING or not replaced.get("archive"):
        return
    try:
        table.update_item(
            Key=catalog_key(item["source_uri"], item["etag"]),
            UpdateExpression="SET #archive = :archive",  # ARCHIVE is a DynamoDB reserved word
            ConditionExpression="#status = :claimed AND claimed_at = :claimed_at",
            ExpressionAttributeNames={"#status": "status", "#archive": "archive"},
            ExpressionAttributeValues={
                ":archive": replaced["archive"],
                ":claimed": STATUS_CLAIMED,
                ":claimed_at": item["claimed_at"],
            },
        )
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise


def claim(
    table: Table,
    source: UploadedObject,
    execution_arn: str | None,
    detail_type: str | None = None,
    s3: S3Client | None = None,
    output_bucket: str | None = None,
) -> ClaimResult:
    """Conditionally write the CLAIMED item; a lost race is a normal outcome, not an error.

    ``s3`` (the input bucket's client) checks that the key still holds the upload first; None skips it.
    ``output_bucket`` (with ``s3``) lets a re-upload of transcribed bytes take the key's outputs back
    from another upload (A, B, A: module doc); None: a TRANSCRIBED row is never claimed again.
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
        claimable = {
            ":failed": STATUS_FAILED,
            ":superseded": STATUS_SUPERSEDED,
            ":archived": STATUS_ARCHIVED,
            ":restoring": STATUS_RESTORING,
        }
        replaced = _put_claim(table, item, CLAIM_CONDITION, claimable)
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        held = exc.response.get("Item") or {}
        held_by = (held.get("execution_arn") or {}).get("S") if isinstance(held, dict) else None
        if execution_arn and held_by == execution_arn:
            return ClaimResult(claimed=True, source=source)  # our own first attempt wrote it
        if _held_status(held) == STATUS_TRANSCRIBED and s3 is not None and output_bucket:
            owner = outputs_owner_etag(s3, output_bucket, source.key)
            if owner is not None and owner != source.etag:
                return _reclaim(table, source, item)
        return ClaimResult(claimed=False, source=source, reason="already_claimed")
    _keep_restore(table, item, replaced)
    return ClaimResult(claimed=True, source=source)


def _reclaim(table: Table, source: UploadedObject, item: dict[str, Any]) -> ClaimResult:
    """Claim a TRANSCRIBED row again: another upload's words hold the key's outputs (A, B, A)."""
    try:
        _put_claim(table, item, RECLAIM_CONDITION, {":transcribed": STATUS_TRANSCRIBED})
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return ClaimResult(claimed=False, source=source, reason="already_claimed")
        raise
    return ClaimResult(claimed=True, source=source)
