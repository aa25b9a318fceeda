"""Specifications of the cold-upload rules (pipeline.archive) and of their outcome in RecordFailure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pipeline.archive import (
    RESTORE_GRACE,
    archive_info,
    cold_state,
    restore_progress,
    restore_request,
    restore_tier,
)
from pipeline.outcomes import ArchiveRestoring, ObjectArchived
from record_failure.classify import classify
from start_execution.starter import RESTORED_SUFFIX, plan_record

from local_emulator.runner import object_created_event

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RESTORED = 'ongoing-request="false", expiry-date="Fri, 23 Dec 2026 00:00:00 GMT"'


@pytest.mark.parametrize(
    ("head", "cold"),
    [
        ({"StorageClass": "GLACIER"}, True),
        ({"StorageClass": "DEEP_ARCHIVE"}, True),
        ({"StorageClass": "GLACIER", "Restore": 'ongoing-request="true"'}, True),
        ({"StorageClass": "GLACIER", "Restore": RESTORED}, False),
        ({"StorageClass": "INTELLIGENT_TIERING", "ArchiveStatus": "ARCHIVE_ACCESS"}, True),
        ({"StorageClass": "INTELLIGENT_TIERING", "ArchiveStatus": "DEEP_ARCHIVE_ACCESS"}, True),
        ({"StorageClass": "INTELLIGENT_TIERING"}, False),
        ({"StorageClass": "GLACIER_IR"}, False),
        ({}, False),
    ],
)
def test_a_head_response_says_whether_the_object_is_cold(head: dict[str, Any], cold: bool) -> None:
    assert cold_state(head).cold is cold


def test_the_restore_header_is_read_in_its_three_states() -> None:
    assert restore_progress(None) == "none"
    assert restore_progress('ongoing-request="true"') == "in_progress"
    assert restore_progress(RESTORED) == "restored"


@pytest.mark.parametrize(
    ("head", "requested", "tier", "hours"),
    [
        ({"StorageClass": "GLACIER"}, "expedited", "Expedited", 5 / 60),
        ({"StorageClass": "GLACIER"}, "standard", "Standard", 5),
        ({"StorageClass": "GLACIER"}, "bulk", "Bulk", 12),
        ({"StorageClass": "DEEP_ARCHIVE"}, "standard", "Standard", 12),
        ({"StorageClass": "DEEP_ARCHIVE"}, "bulk", "Bulk", 48),
        ({"StorageClass": "INTELLIGENT_TIERING", "ArchiveStatus": "DEEP_ARCHIVE_ACCESS"}, "bulk", "Bulk", 48),
    ],
)
def test_the_expected_time_is_the_tiers_upper_bound_and_the_deadline_a_grace_later(
    head: dict[str, Any], requested: str, tier: str, hours: float
) -> None:
    info = archive_info(cold_state(head), requested, 3, NOW)
    assert info.tier == tier
    expected = datetime.fromisoformat(str(info.expected_by).replace("Z", "+00:00"))
    assert expected - NOW == timedelta(hours=hours)
    deadline = datetime.fromisoformat(str(info.deadline).replace("Z", "+00:00"))
    assert deadline - expected == RESTORE_GRACE


def test_deep_archive_has_no_expedited_tier_standard_is_used_and_noted() -> None:
    tier, note = restore_tier("expedited", cold_state({"StorageClass": "DEEP_ARCHIVE"}))
    assert tier == "Standard"
    assert note is not None and "Expedited" in note


def test_restore_off_records_no_tier_and_no_times() -> None:
    info = archive_info(cold_state({"StorageClass": "GLACIER"}), "off", 1, NOW)
    assert (info.tier, info.expected_by, info.deadline) == (None, None, None)


def test_an_intelligent_tiering_restore_takes_no_days_the_others_do() -> None:
    it = cold_state({"StorageClass": "INTELLIGENT_TIERING", "ArchiveStatus": "ARCHIVE_ACCESS"})
    assert restore_request(it, "Bulk", 7) == {"GlacierJobParameters": {"Tier": "Bulk"}}
    glacier = cold_state({"StorageClass": "GLACIER"})
    assert restore_request(glacier, "Bulk", 7) == {"GlacierJobParameters": {"Tier": "Bulk"}, "Days": 7}


def _lambda_error(exc: Exception) -> dict[str, str]:
    cause = {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []}
    return {"Error": type(exc).__name__, "Cause": json.dumps(cause)}


def test_object_archived_is_its_own_outcome_with_the_archive_it_carries() -> None:
    archive = {"storage_class": "GLACIER", "restore": "none", "requested": "off"}
    result = classify(_lambda_error(ObjectArchived("s3://b/k is archived", archive)))
    assert (result.reason, result.reason_class) == ("ObjectArchived", "archived")
    assert result.message == "s3://b/k is archived"
    assert result.archive == archive


def test_restoring_is_its_own_outcome() -> None:
    result = classify(_lambda_error(ArchiveRestoring("restore requested", {"storage_class": "GLACIER"})))
    assert (result.reason, result.reason_class) == ("ArchiveRestoring", "archived")


def test_invalid_object_state_from_any_later_read_is_archived_not_internal() -> None:
    # Given a botocore error of a GET after the probe (the restored copy expired meanwhile)
    message = "An error occurred (InvalidObjectState) when calling the GetObject operation: not valid"
    result = classify(
        {
            "Error": "ClientError",
            "Cause": json.dumps({"errorType": "InvalidObjectState", "errorMessage": message}),
        }
    )
    assert (result.reason, result.reason_class) == ("ObjectArchived", "archived")


def test_a_restore_completed_event_starts_an_execution_named_apart_from_the_upload() -> None:
    # Given the upload's Object Created event and its Object Restore Completed event
    created = object_created_event("in", "calls/a.wav", 10, "abc", None)
    completed = {**created, "detail-type": "Object Restore Completed"}

    first, restored = plan_record(json.dumps(created), ()), plan_record(json.dumps(completed), ())

    # Then both start, the restored one under a name of its own, the same for every delivery
    assert (first.outcome, restored.outcome) == ("start", "start")
    assert restored.name == f"{first.name}-{RESTORED_SUFFIX}"
    assert plan_record(json.dumps(completed), ()).name == restored.name
