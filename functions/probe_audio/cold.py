"""A cold upload found by the probe: off -> ObjectArchived; on -> RestoreObject once -> ArchiveRestoring.

The probe's ranged GET answered InvalidObjectState (probe_audio.s3_reader). One HeadObject, pinned to
the claimed version (or If-Match on its ETag), says which archive holds the bytes and whether a restore
already runs (pipeline.archive). With the upload's RestoreArchived (its ``restore-archived`` tag, else
the RESTORE_ARCHIVED setting) off, the execution ends ARCHIVED. Otherwise RestoreObject is issued
unless a restore already runs; S3's "already in progress" answer is the same outcome, so a retried
Probe or a second execution never starts a second restore. The original object is never written:
a restore makes a temporary readable copy (Intelligent-Tiering: moves it to its Frequent Access tier).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.archive import archive_info, cold_state, request_restore, restore_elsewhere, restore_tier
from pipeline.contracts import UploadedObject
from pipeline.exact_upload import pin, superseded_when_gone
from pipeline.outcomes import ArchiveRestoring, ObjectArchived, TransientError
from pipeline.types import RestoreArchived

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def handle_cold(
    s3: S3Client, source: UploadedObject, requested: RestoreArchived, days: int, now: datetime
) -> None:
    """Raise the cold upload's typed outcome (always raises)."""
    with superseded_when_gone(source.uri, "changed or vanished while asking why it is archived"):
        pinned: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key, **pin(source)}
        head: dict[str, Any] = dict(s3.head_object(**pinned))
    state = cold_state(head)
    if not state.cold:
        # Restored (or moved out of the archive tier) between the GET and this HEAD: read it again.
        raise TransientError(f"{source.uri} became readable while probing ({state.storage_class})")
    info = archive_info(state, requested, days, now)
    where = state.storage_class + (f" ({state.archive_status})" if state.archive_status else "")
    if info.tier is None and state.restore == "in_progress":
        info = restore_elsewhere(state, days, now)
    elif info.tier is None:
        raise ObjectArchived(
            f"{source.uri} is archived in {where} and RestoreArchived is off: restore it (or set "
            "RestoreArchived / tag restore-archived) and it is transcribed on S3's restore-completed event",
            info.model_dump(mode="json", exclude_none=True),
        )
    if state.restore != "in_progress":
        tier, _ = restore_tier(requested, state)
        assert tier is not None
        # The restored copy is of the claimed version; RestoreObject takes no If-Match (an unversioned
        # key overwritten meanwhile is caught when the restore-completed execution reads it, pinned).
        request_restore(s3, source.bucket, source.key, source.version_id, state, tier, days)
    raise ArchiveRestoring(
        f"{source.uri} is archived in {where}: {info.tier or 'a'} restore requested, "
        f"expected by {info.expected_by}",
        info.model_dump(mode="json", exclude_none=True),
    )
