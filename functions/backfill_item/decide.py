"""Decide, for one object of a backfill, whether the per-file workflow must run, and how it is started.

The answer comes from the catalog row of the object's exact bytes (keyed by URI and ETag, as
Claim writes it) and from the live starter's own rules, so a backfill never starts what the
ingress would not, and never redoes what already has an answer:

- a folder marker or a key with an ignored suffix (IGNORE_KEY_SUFFIXES): skipped, by the
  starter's ``ignore_reason``;
- a TRANSCRIBED row: skipped (``transcribed``);
- FAILED with reason_class ``bad_input``, or SUPERSEDED: skipped: the same bytes get the same answer;
- FAILED ``internal``: started again under ``<name>-retryN`` (the next N after the last attempt's);
- RESTORING: skipped (``restoring``): its restore-completed event transcribes it (docs/ARCHIVES.md);
- ARCHIVED (cold, not restored): started again under ``<name>-retryN``, so that a backfill with
  RestoreArchived on restores it (and one with it off records ARCHIVED again, at no GPU cost);
- no row, or CLAIMED (in flight, or an execution that never finished): started under
  ``execution_name(source)``. The live starter's name also hashes the S3 event's sequencer on an
  unversioned bucket, which a listing does not carry, so there the two names differ and Claim is the
  guard (the second execution ends at AlreadyClaimed, no GPU work); with version ids (a versioned bucket
  listed through an inventory) they collide by name and Step Functions refuses the second;
- zero-byte objects are started too: the per-file workflow records them as ``ZeroByteObject``.

Each decision says the object's storage class (as listed; an Intelligent-Tiering one's archive tier from
the inventory's ``IntelligentTieringAccessTier`` or one HeadObject) and size, which the summary counts
per class, so that a dry run can price the restores (pipeline.restore_prices). A run with ``restore``
set restores a cold object itself before starting it (pipeline.archive.request_restore), within the
run's caps (backfill_item.restore_budget): past ``max_restores`` it is skipped (``restore_cap``); past
this hour's ``max_restores_per_hour`` the decision is ``wait`` and the ASL asks again after ``wait_s``.
The started execution then finds the restore running and records RESTORING; S3's restore-completed event
transcribes it. Warm objects are started as before, never restored.

The execution's input is the S3 ``Object Created`` event the starter would hand over, built
deterministically from the object (same object, same event) so that StartExecution stays
idempotent between two backfills of the same object while its execution runs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from pipeline.archive import INTELLIGENT_TIERING, ColdState, cold_state, request_restore, restore_tier
from pipeline.backfill import BackfillDecision, BackfillItemRequest, SkipReason
from pipeline.catalog import catalog_key
from pipeline.contracts import MISSING_ETAG, UploadedObject
from pipeline.naming import execution_name, upload_identity
from pipeline.outcomes import (
    BAD_INPUT,
    STATUS_ARCHIVED,
    STATUS_FAILED,
    STATUS_RESTORING,
    STATUS_SUPERSEDED,
    STATUS_TRANSCRIBED,
)
from pipeline.s3uri import format_s3_uri
from pipeline.uploads import FOLDER_MARKER, ignore_reason
from pipeline.uploads import object_created_event as upload_event

from backfill_item.restore_budget import take_slot

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client


RETRY_SUFFIX = re.compile(r"-retry(\d+)$")
EVENT_NAMESPACE = uuid.UUID("5d1c2a8e-51f3-4c1e-9f4b-6a0e4b2f7a10")
BACKFILL_REASON = "Backfill"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class ListedObject:
    """One object as the ItemReader listed it, normalised: decoded key, unquoted ETag."""

    bucket: str
    key: str
    etag: str
    size: int | None
    version_id: str | None
    last_modified: str
    current: bool


def _field(item: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` present, case-insensitively (listings say ``Etag``, inventories ``ETag``)."""
    lowered = {str(k).lower(): v for k, v in item.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value not in (None, ""):
            return value
    return None


def _iso(value: Any) -> str:
    """LastModified as ISO-8601 UTC: epoch seconds (ListObjectsV2 items) or a date string (inventories)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value:
        return value
    return EPOCH


def listed_object(request: BackfillItemRequest) -> ListedObject:
    """Read an item of either reader. Inventory keys are URL-encoded (S3 Inventory CSV); listed ones not."""
    item = request.item
    raw_key = str(_field(item, "Key") or "")
    key = unquote_plus(raw_key) if request.source == "manifest" else raw_key
    size = _field(item, "Size")
    version_id = _field(item, "VersionId")
    is_latest = str(_field(item, "IsLatest") or "true").lower() != "false"
    is_delete_marker = str(_field(item, "IsDeleteMarker") or "false").lower() == "true"
    return ListedObject(
        bucket=str(_field(item, "Bucket") or request.bucket),
        key=key,
        etag=str(_field(item, "ETag", "Etag") or MISSING_ETAG).strip('"'),
        size=None if size is None else int(size),
        version_id=None if version_id in (None, "null") else str(version_id),
        last_modified=_iso(_field(item, "LastModified", "LastModifiedDate")),
        current=is_latest and not is_delete_marker,
    )


def uploaded(obj: ListedObject) -> UploadedObject:
    return UploadedObject(
        bucket=obj.bucket,
        key=obj.key,
        etag=obj.etag,
        version_id=obj.version_id,
        size=obj.size,
        uri=format_s3_uri(obj.bucket, obj.key),
    )


def object_created_event(obj: ListedObject, account: str, region: str) -> dict[str, Any]:
    """The EventBridge event S3 sends for this object (what Claim parses); the same for the same object."""
    source = uploaded(obj)
    identity = upload_identity(source)
    return upload_event(
        source,
        account=account,
        region=region,
        time=obj.last_modified,
        event_id=str(uuid.uuid5(EVENT_NAMESPACE, identity)),
        request_id=uuid.uuid5(EVENT_NAMESPACE, "request\0" + identity).hex[:16].upper(),
        reason=BACKFILL_REASON,
        source_ip="0.0.0.0",
    )


def next_retry(row: Mapping[str, Any]) -> int:
    """1 after the original attempt, N+1 after ``retryN`` (read from the execution ARNs on the row)."""
    attempts = [0]
    for field in ("execution_arn", "failed_execution_arn"):
        match = RETRY_SUFFIX.search(str(row.get(field) or ""))
        if match:
            attempts.append(int(match.group(1)))
    return max(attempts) + 1


def _done(
    outcome: str, reason: SkipReason | None = None, uri: str | None = None, **facts: Any
) -> BackfillDecision:
    return BackfillDecision(action="done", outcome=outcome, reason=reason, source_uri=uri, **facts)


def storage_of(request: BackfillItemRequest, obj: ListedObject, s3: S3Client | None) -> ColdState:
    """The object's storage class and archive tier (not its restore state: a listing does not say it).
    Only an Intelligent-Tiering object the inventory does not describe costs a HeadObject."""
    storage_class = str(_field(request.item, "StorageClass") or "STANDARD")
    tier = _field(request.item, "IntelligentTieringAccessTier")
    if storage_class == INTELLIGENT_TIERING and tier is None and s3 is not None:
        pinned: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.version_id:
            pinned["VersionId"] = obj.version_id
        return cold_state(dict(s3.head_object(**pinned)))
    return ColdState(storage_class, str(tier) if tier else None, "none")


def facts_of(state: ColdState, obj: ListedObject) -> dict[str, Any]:
    return {"storage_class": state.storage_class, "archive_status": state.archive_status, "size": obj.size}


def row_skip_reason(row: Mapping[str, Any] | None) -> SkipReason | None:
    """Why the catalog row of these bytes says not to start them again (None: start)."""
    if not row:
        return None
    status = row.get("status")
    if status == STATUS_TRANSCRIBED:
        return "transcribed"
    if status == STATUS_SUPERSEDED:
        return "superseded"
    if status == STATUS_FAILED and row.get("reason_class") == BAD_INPUT:
        return BAD_INPUT
    if status == STATUS_RESTORING:
        return "restoring"
    return None


def decide(
    request: BackfillItemRequest,
    table: Table,
    ignored_suffixes: Sequence[str],
    account: str,
    region: str,
    s3: S3Client | None = None,
    now: datetime | None = None,
) -> BackfillDecision:
    """One object's decision (reads one catalog item, consistently; writes only the run's restore
    counters, and asks S3 for a restore, when the run restores)."""
    obj = listed_object(request)
    uri = format_s3_uri(obj.bucket, obj.key)
    if not obj.current:
        return _done("skipped", "not_current", uri)
    if not obj.key.startswith(request.prefix):
        return _done("skipped", "outside_prefix", uri)
    ignored = ignore_reason(obj.key, ignored_suffixes)
    if ignored:
        reason: SkipReason = "folder_marker" if ignored == FOLDER_MARKER else "ignored_suffix"
        return _done("skipped", reason, uri)
    found = table.get_item(Key=catalog_key(uri, obj.etag), ConsistentRead=True).get("Item")
    row: dict[str, Any] | None = dict(found) if found else None
    skip = row_skip_reason(row)
    if skip:
        return _done("skipped", skip, uri)
    retry = row is not None and row.get("status") in (STATUS_FAILED, STATUS_ARCHIVED)
    state = storage_of(request, obj, s3)
    facts = facts_of(state, obj)
    if request.dry_run:
        return _done("would_retry" if retry else "would_start", uri=uri, **facts)
    restore = request.restore
    if restore is not None and state.archived and s3 is not None:
        slot, wait_s = take_slot(table, request.run or "unnamed", restore, now or datetime.now(UTC))
        if slot == "cap":
            return _done("skipped", "restore_cap", uri, **facts)
        if slot == "wait":
            return BackfillDecision(action="wait", outcome="wait", source_uri=uri, wait_s=wait_s, **facts)
        tier, _ = restore_tier(restore.tier, state)
        assert tier is not None  # the run's tier is never off
        request_restore(s3, obj.bucket, obj.key, obj.version_id, state, tier, restore.days)
        facts["restore_requested"] = True
    suffix = f"retry{next_retry(row)}" if retry and row else ""
    return BackfillDecision(
        action="start",
        outcome="retry" if retry else "start",
        source_uri=uri,
        name=execution_name(uploaded(obj), suffix),
        input=object_created_event(obj, account, region),
        **facts,
    )
