"""Cold uploads: how S3 says an object is archived, and what restoring it takes (docs/ARCHIVES.md).

S3 answers a GET of a cold object with 403 InvalidObjectState; that is how the workflow first
notices (no extra request for the warm majority). Then one HeadObject says why:

* ``StorageClass`` GLACIER (Flexible Retrieval) or DEEP_ARCHIVE: always cold unless restored;
* ``StorageClass`` INTELLIGENT_TIERING with ``ArchiveStatus`` ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS
  (the opt-in archive tiers; the automatic tiers are instant and never cold);
* ``Restore``: ``ongoing-request="true"`` while a restore runs, ``ongoing-request="false",
  expiry-date=...`` once the temporary copy is readable.

GLACIER_IR (Instant Retrieval) is read like STANDARD and never reaches this module.

Restore tiers and the upper bounds of their retrieval times are the S3 User Guide's ("Understanding
archive retrieval options"; "Restoring objects from the S3 Intelligent-Tiering Archive Access and Deep
Archive Access tiers"). Deep Archive (and the Deep Archive Access tier) has no Expedited tier: asking
for it falls back to Standard, the fastest it has, and the row's ``note`` says so. An Intelligent-
Tiering restore takes no Days (the object moves back to the Frequent Access tier); the others keep
a temporary copy for RestoreDays while the archived original stays as it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from pipeline.contracts import ArchiveInfo
from pipeline.exact_upload import RESTORE_IN_PROGRESS
from pipeline.exact_upload import error_code as _error_code
from pipeline.types import RestoreArchived

RESTORE_SETTINGS: tuple[str, ...] = get_args(RestoreArchived)
COLD_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
INTELLIGENT_TIERING_ARCHIVE = frozenset({"ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"})
Tier = Literal["Expedited", "Standard", "Bulk"]
TIERS: dict[str, Tier] = {"expedited": "Expedited", "standard": "Standard", "bulk": "Bulk"}

# Upper bound of each tier's retrieval time (hours): Flexible Retrieval (and the Archive Access tier)
# vs Deep Archive (and the Deep Archive Access tier). S3 User Guide, see the module doc.
RESTORE_HOURS: dict[tuple[bool, Tier], float] = {
    (False, "Expedited"): 5 / 60,
    (False, "Standard"): 5.0,
    (False, "Bulk"): 12.0,
    (True, "Standard"): 12.0,
    (True, "Bulk"): 48.0,
}
# A restore not completed this long after its expected time never will (a lost event, an object
# deleted meanwhile): the sweep (functions/record_failure/restores.py) ends it typed.
RESTORE_GRACE = timedelta(hours=24)
_ONGOING = re.compile(r'ongoing-request\s*=\s*"?(true|false)"?', re.IGNORECASE)


@dataclass(frozen=True)
class ColdState:
    storage_class: str
    archive_status: str | None
    restore: Literal["none", "in_progress", "restored"]

    @property
    def archived(self) -> bool:
        """Whether the bytes sit in an archive tier (restored or not)."""
        if self.storage_class in COLD_STORAGE_CLASSES:
            return True
        it_archive = self.archive_status in INTELLIGENT_TIERING_ARCHIVE
        return self.storage_class == INTELLIGENT_TIERING and it_archive

    @property
    def cold(self) -> bool:
        """Whether a GET cannot read it now."""
        return self.archived and self.restore != "restored"

    @property
    def deep(self) -> bool:
        return self.storage_class == "DEEP_ARCHIVE" or self.archive_status == "DEEP_ARCHIVE_ACCESS"

    @property
    def intelligent_tiering(self) -> bool:
        return self.storage_class == INTELLIGENT_TIERING


def restore_progress(header: Any) -> Literal["none", "in_progress", "restored"]:
    """HeadObject's ``Restore`` header: absent, ``ongoing-request="true"`` or ``"false", expiry-date=...``."""
    match = _ONGOING.search(str(header or ""))
    if not match:
        return "none"
    return "in_progress" if match.group(1).lower() == "true" else "restored"


def cold_state(head: dict[str, Any]) -> ColdState:
    """The cold-storage facts of one HeadObject response (boto3's keys)."""
    return ColdState(
        storage_class=str(head.get("StorageClass") or "STANDARD"),
        archive_status=head.get("ArchiveStatus") or None,
        restore=restore_progress(head.get("Restore")),
    )


def restore_tier(requested: RestoreArchived, state: ColdState) -> tuple[Tier | None, str | None]:
    """The tier a ``requested`` RestoreArchived value restores ``state`` with (None: off), and a note
    when the class does not offer it (Expedited on Deep Archive: Standard instead)."""
    if requested == "off":
        return None, None
    tier = TIERS[requested]
    if (state.deep, tier) not in RESTORE_HOURS:
        return "Standard", f"{state.storage_class} has no {tier} retrieval tier; Standard is used"
    return tier, None


def restore_request(state: ColdState, tier: Tier, days: int) -> dict[str, Any]:
    """RestoreObject's ``RestoreRequest``: Intelligent-Tiering takes no Days (module doc)."""
    request: dict[str, Any] = {"GlacierJobParameters": {"Tier": tier}}
    if not state.intelligent_tiering:
        request["Days"] = days
    return request


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def archive_info(state: ColdState, requested: RestoreArchived, days: int, now: datetime) -> ArchiveInfo:
    """What the catalog records of a cold upload: off -> no tier; on -> the tier, its expected time
    (the tier's upper bound after ``now``) and the deadline past which the sweep gives up."""
    tier, note = restore_tier(requested, state)
    if tier is None:
        return ArchiveInfo(
            storage_class=state.storage_class,
            archive_status=state.archive_status,
            restore="in_progress" if state.restore == "in_progress" else "none",
            requested=requested,
        )
    expected = now + timedelta(hours=RESTORE_HOURS[(state.deep, tier)])
    return ArchiveInfo(
        storage_class=state.storage_class,
        archive_status=state.archive_status,
        restore="in_progress" if state.restore == "in_progress" else "none",
        requested=requested,
        tier=tier,
        days=None if state.intelligent_tiering else days,
        requested_at=_iso(now),
        expected_by=_iso(expected),
        deadline=_iso(expected + RESTORE_GRACE),
        note=note,
    )


def restore_elsewhere(state: ColdState, days: int, now: datetime) -> ArchiveInfo:
    """A restore this execution did not ask for already runs (a backfill's, a person's): RESTORING all
    the same, its tier unknown to HeadObject, so the expected time and deadline are the Bulk tier's."""
    info = archive_info(state, "bulk", days, now)
    return info.model_copy(
        update={
            "requested": None,
            "tier": None,
            "note": "a restore requested outside this execution runs; timed as the Bulk tier",
        }
    )


def request_restore(
    s3: Any, bucket: str, key: str, version_id: str | None, state: ColdState, tier: Tier, days: int
) -> bool:
    """Issue RestoreObject once; S3's "already in progress" (409) is the same outcome. True when this
    call started it. Shared by the Probe and the backfill's Decide (one way to ask)."""
    restore: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "RestoreRequest": restore_request(state, tier, days),
    }
    if version_id:
        restore["VersionId"] = version_id
    try:
        s3.restore_object(**restore)
    except Exception as exc:
        if _error_code(exc) not in RESTORE_IN_PROGRESS:
            raise
        return False
    return True


def archive_error_payload(message: Any) -> tuple[str, dict[str, Any] | None]:
    """(human message, ArchiveInfo JSON) of an ObjectArchived/ArchiveRestoring ``errorMessage``."""
    try:
        payload = json.loads(str(message))
    except ValueError:
        return str(message or ""), None
    if not isinstance(payload, dict):
        return str(message), None
    archive = payload.get("archive")
    return str(payload.get("message") or ""), archive if isinstance(archive, dict) else None
