"""Specifications of cold uploads (docs/ARCHIVES.md): Glacier Flexible Retrieval, Deep Archive and the
Intelligent-Tiering archive tiers, restore off (ARCHIVED) and on (RESTORING, then TRANSCRIBED on S3's
Object Restore Completed event), in the local stack (restores held until the test completes them:
local_emulator.archives).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_emulator import runner
from local_emulator.stack import LocalStack
from tests.workflow.test_per_file_workflow import catalog_row

COLD_PATH = ["Claim", "IsClaimed", "Probe", "RecordFailure", "IsSuperseded"]
TRANSCRIBED_PATH = ["Claim", "IsClaimed", "Probe", "Plan", "ChoosePath", "Transcribe", "Postprocess", "Index"]


@pytest.mark.parametrize(
    ("storage_class", "archive_status"),
    [
        ("GLACIER", None),
        ("DEEP_ARCHIVE", None),
        ("INTELLIGENT_TIERING", "ARCHIVE_ACCESS"),
        ("INTELLIGENT_TIERING", "DEEP_ARCHIVE_ACCESS"),
    ],
)
def test_a_cold_upload_with_restore_off_ends_archived_without_a_job(
    stack: LocalStack, clips: dict[str, Path], storage_class: str, archive_status: str | None
) -> None:
    # Given a valid clip stored cold (RestoreArchived is off by default)
    key = f"old/{storage_class}-{archive_status}.wav"
    assert stack.cold is not None
    if archive_status:
        stack.cold.archive(stack.deployment.input_bucket, key, archive_status)

    # When it is uploaded
    event, report = runner.upload_and_run(
        stack.deployment, str(clips["short"]), key, StorageClass=storage_class
    )

    # Then the execution ends in its own Archived state: neither bad input nor internal, no GPU job
    assert report is not None
    assert report.status == "SUCCEEDED", report.cause
    assert report.states == [*COLD_PATH, "Archived"]
    assert stack.bridge.batch_jobs == []
    # And the catalog row says which archive holds it and that nothing was restored
    row = catalog_row(stack, event)
    assert row is not None
    assert row["status"] == "ARCHIVED"
    assert "reason_class" not in row
    assert row["archive"]["storage_class"] == storage_class
    assert row["archive"].get("archive_status") == archive_status
    assert "tier" not in row["archive"]
    assert stack.cold.restore_requests == []


def test_restore_on_restores_once_then_the_restored_copy_is_transcribed_once(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given a Deep Archive upload tagged for a bulk restore
    key = "vault/call.wav"
    bucket = stack.deployment.input_bucket
    assert stack.cold is not None

    # When it is uploaded
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        key,
        StorageClass="DEEP_ARCHIVE",
        Tagging="restore-archived=bulk",
    )

    # Then one bulk restore is requested, the row says RESTORING with the tier and the expected time,
    # and the execution ends without waiting for it
    assert report is not None and report.status == "SUCCEEDED", report and report.cause
    assert report.states == [*COLD_PATH, "Restoring"]
    row = catalog_row(stack, event)
    assert row is not None and row["status"] == "RESTORING"
    assert (row["archive"]["tier"], row["archive"]["days"]) == ("Bulk", 1)
    assert row["archive"]["requested_at"] < row["archive"]["expected_by"] < row["archive"]["deadline"]
    assert stack.cold.restoring(bucket, key)
    assert [r[:2] for r in stack.cold.restore_requests] == [(bucket, key)]

    # When the same upload's event is processed again while restoring (a backfill, a re-run)
    again = runner.start_execution(stack.deployment, {**event, "id": "another-delivery"})
    assert runner.wait_for(again).status == "SUCCEEDED"

    # Then no second restore is started (RestoreObject is not issued while one runs)
    assert len(stack.cold.restore_requests) == 1

    # When S3 completes the restore and sends Object Restore Completed, twice (at-least-once delivery)
    completed = stack.cold.complete_restore(bucket, key)
    stack.ingress.wait_idle(60)  # type: ignore[union-attr]
    name = runner.planned_name(stack.deployment, completed)
    assert name is not None
    restored = runner.wait_for(runner.execution_arn(stack.deployment, name))
    runner.deliver(stack.deployment, completed)

    # Then the restored copy is transcribed once, by the execution named after the restore
    assert restored.status == "SUCCEEDED", restored.cause
    assert restored.states == TRANSCRIBED_PATH
    assert len(stack.bridge.batch_jobs) == 1
    row = catalog_row(stack, event)
    assert row is not None and row["status"] == "TRANSCRIBED"
    assert row["execution_arn"] == restored.execution_arn
    # And the original object is unchanged: still Deep Archive, same ETag
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket=bucket, Key=key)
    assert head["StorageClass"] == "DEEP_ARCHIVE"
    assert head["ETag"].strip('"') == event["detail"]["object"]["etag"]


def test_a_duplicate_restore_completed_event_under_another_name_stops_at_claim(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given a Glacier upload restored with the template's restore on (tag: standard) and transcribed
    key = "vault/twice.wav"
    bucket = stack.deployment.input_bucket
    assert stack.cold is not None
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        key,
        StorageClass="GLACIER",
        Tagging="restore-archived=standard",
    )
    assert report is not None and report.states[-1] == "Restoring"
    completed = stack.cold.complete_restore(bucket, key)
    stack.ingress.wait_idle(60)  # type: ignore[union-attr]
    name = runner.planned_name(stack.deployment, completed)
    assert name is not None
    first = runner.wait_for(runner.execution_arn(stack.deployment, name))
    assert first.status == "SUCCEEDED" and first.states == TRANSCRIBED_PATH

    # When another execution gets the same restore-completed event (a name the starter would not give)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    import json

    arn = sfn.start_execution(
        stateMachineArn=stack.deployment.state_machine_arn,
        name="restored-by-hand",
        input=json.dumps(completed),
    )["executionArn"]
    second = runner.wait_for(arn)

    # Then the catalog's claim stops it: one job in all
    assert second.states == ["Claim", "IsClaimed", "AlreadyClaimed"]
    assert len(stack.bridge.batch_jobs) == 1
    assert catalog_row(stack, event)["status"] == "TRANSCRIBED"  # type: ignore[index]


def test_expedited_on_deep_archive_falls_back_to_standard_and_says_so(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        "vault/fast.wav",
        StorageClass="DEEP_ARCHIVE",
        Tagging="restore-archived=expedited",
    )
    assert report is not None and report.states[-1] == "Restoring"
    archive = catalog_row(stack, event)["archive"]  # type: ignore[index]
    assert archive["tier"] == "Standard"
    assert "Expedited" in archive["note"]


def test_an_unknown_restore_tag_is_typed_bad_input(stack: LocalStack, clips: dict[str, Path]) -> None:
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        "vault/odd.wav",
        StorageClass="GLACIER",
        Tagging="restore-archived=soon",
    )
    assert report is not None and report.status == "FAILED"
    row = catalog_row(stack, event)
    assert row is not None
    assert (row["status"], row["reason_class"], row["error"]) == ("FAILED", "bad_input", "UnsupportedInput")
    assert "restore-archived" in row["message"]


def _sweep_at(stack: LocalStack, when: datetime) -> dict[str, int]:
    """The hourly RestoreSweepFunction's work, run with a clock the test controls."""
    from record_failure.restores import sweep_restores

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(stack.deployment.catalog_table)
    return sweep_restores(
        table,
        boto3.client("s3", region_name="us-east-1"),
        boto3.client("events", region_name="us-east-1"),
        when,
    )


def test_a_restore_that_never_completes_ends_archived_restore_timed_out_after_its_deadline(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given a RESTORING Glacier upload whose restore S3 never completes
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        "vault/lost.wav",
        StorageClass="GLACIER",
        Tagging="restore-archived=bulk",
    )
    assert report is not None and report.states[-1] == "Restoring"
    archive = catalog_row(stack, event)["archive"]  # type: ignore[index]
    deadline = datetime.fromisoformat(archive["deadline"].replace("Z", "+00:00"))

    # When the sweep runs before the deadline, then after it
    before = _sweep_at(stack, deadline - timedelta(minutes=1))
    row_before = catalog_row(stack, event)
    after = _sweep_at(stack, deadline)

    # Then it waits, then ends the row typed: ARCHIVED restore_timed_out (the object is still cold)
    assert before == {} and row_before is not None and row_before["status"] == "RESTORING"
    assert after == {"ARCHIVED": 1}
    row = catalog_row(stack, event)
    assert row is not None
    assert (row["status"], row["reason"]) == ("ARCHIVED", "restore_timed_out")
    # And a second sweep finds nothing more to do
    assert _sweep_at(stack, deadline + timedelta(hours=1)) == {}


def test_an_object_deleted_while_restoring_ends_superseded_deleted(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given a RESTORING Deep Archive upload
    key = "vault/deleted.wav"
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        key,
        StorageClass="DEEP_ARCHIVE",
        Tagging="restore-archived=standard",
    )
    assert report is not None and report.states[-1] == "Restoring"
    deadline = catalog_row(stack, event)["archive"]["deadline"]  # type: ignore[index]

    # When the object is deleted (S3 then never completes the restore) and the deadline passes
    boto3.client("s3", region_name="us-east-1").delete_object(Bucket=stack.deployment.input_bucket, Key=key)
    counts = _sweep_at(stack, datetime.fromisoformat(deadline.replace("Z", "+00:00")))

    # Then the row ends SUPERSEDED by no object (deleted), no job ran
    assert counts == {"SUPERSEDED": 1}
    row = catalog_row(stack, event)
    assert row is not None
    assert row["status"] == "SUPERSEDED" and row["superseded_by"]["deleted"] is True
    assert stack.bridge.batch_jobs == []


def test_a_restore_completed_event_for_a_deleted_object_ends_superseded_at_claim(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given a RESTORING upload, restored, then deleted before its event is processed
    key = "vault/gone.wav"
    bucket = stack.deployment.input_bucket
    assert stack.cold is not None
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        key,
        StorageClass="GLACIER",
        Tagging="restore-archived=expedited",
    )
    assert report is not None and report.states[-1] == "Restoring"
    fake_event = restore_event_without_delivery(stack, bucket, key)
    boto3.client("s3", region_name="us-east-1").delete_object(Bucket=bucket, Key=key)

    # When the restore-completed event arrives
    restored = runner.deliver(stack.deployment, fake_event)

    # Then Claim finds the key empty: SUPERSEDED (deleted), no job
    assert restored is not None
    assert restored.states[:2] == ["Claim", "RecordSuperseded"]
    assert catalog_row(stack, event)["status"] == "SUPERSEDED"  # type: ignore[index]
    assert stack.bridge.batch_jobs == []


def restore_event_without_delivery(stack: LocalStack, bucket: str, key: str) -> dict[str, Any]:
    """Complete the restore with the ingress paused, so the test decides when the event arrives."""
    assert stack.cold is not None and stack.ingress is not None
    from local_emulator import ingress as local_ingress

    saved = local_ingress._ACTIVE
    local_ingress._ACTIVE = None
    try:
        return stack.cold.complete_restore(bucket, key)
    finally:
        local_ingress._ACTIVE = saved
