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
from typing import Any

from pipeline.archive import archive_info, cold_state, restore_request, restore_tier
from pipeline.outcomes import ArchiveRestoring, ObjectArchived, TransientError
from pipeline.contracts import UploadedObject
from pipeline.exact_upload import RESTORE_IN_PROGRESS, error_code


def _pin(source: UploadedObject) -> dict[str, Any]:
    if source.version_id:
        return {"VersionId": source.version_id}
    return {"IfMatch": f'"{source.if_match_etag}"'} if source.if_match_etag else {}


def handle_cold(s3: Any, source: UploadedObject, requested: str, days: int, now: datetime) -> None:
    """Raise the cold upload's typed outcome (always raises)."""
    head = s3.head_object(Bucket=source.bucket, Key=source.key, **_pin(source))
    state = cold_state(head)
    if not state.cold:
        # Restored (or moved out of the archive tier) between the GET and this HEAD: read it again.
        raise TransientError(f"{source.uri} became readable while probing ({state.storage_class})")
    info = archive_info(state, requested, days, now)
    where = state.storage_class + (f" ({state.archive_status})" if state.archive_status else "")
    if info.tier is None:
        raise ObjectArchived(
            f"{source.uri} is archived in {where} and RestoreArchived is off: restore it (or set "
            "RestoreArchived / tag restore-archived) and it is transcribed on S3's restore-completed event",
            info.model_dump(mode="json", exclude_none=True),
        )
    if state.restore != "in_progress":
        tier, _ = restore_tier(requested, state)
        assert tier is not None
        version = {"VersionId": source.version_id} if source.version_id else {}
        try:
            s3.restore_object(
                Bucket=source.bucket,
                Key=source.key,
                RestoreRequest=restore_request(state, tier, days),
                **version,
            )
        except Exception as exc:
            if error_code(exc) not in RESTORE_IN_PROGRESS:
                raise
    raise ArchiveRestoring(
        f"{source.uri} is archived in {where}: {info.tier} restore requested, expected by {info.expected_by}",
        info.model_dump(mode="json", exclude_none=True),
    )
