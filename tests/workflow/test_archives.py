"""Specifications of cold uploads (docs/ARCHIVES.md): Glacier Flexible Retrieval, Deep Archive and the
Intelligent-Tiering archive tiers, restore off (ARCHIVED) and on (RESTORING, then TRANSCRIBED on S3's
Object Restore Completed event), in the local stack (restores held until the test completes them:
local_emulator.archives).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from pipeline.cost import summarise_costs

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
    # And the row still says what was restored, so the cost report prices the restore beside the GPU
    assert (row["archive"]["storage_class"], row["archive"]["tier"]) == ("DEEP_ARCHIVE", "Bulk")
    [totals] = summarise_costs([row]).values()
    assert totals.restored_files == 1 and totals.restore_usd > 0
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


LIBRARY = "library/"
# 30 objects of one prefix: 12 STANDARD, 6 GLACIER, 6 DEEP_ARCHIVE, 6 INTELLIGENT_TIERING of which 3 sit
# in its Archive Access tier (cold) and 3 in its automatic tiers (readable at once).
MIXED: list[tuple[str, str, str | None]] = (
    [(f"{LIBRARY}standard-{i:02d}.wav", "STANDARD", None) for i in range(12)]
    + [(f"{LIBRARY}glacier-{i:02d}.wav", "GLACIER", None) for i in range(6)]
    + [(f"{LIBRARY}deep-{i:02d}.wav", "DEEP_ARCHIVE", None) for i in range(6)]
    + [(f"{LIBRARY}it-cold-{i:02d}.wav", "INTELLIGENT_TIERING", "ARCHIVE_ACCESS") for i in range(3)]
    + [(f"{LIBRARY}it-warm-{i:02d}.wav", "INTELLIGENT_TIERING", None) for i in range(3)]
)
COLD_KEYS = [
    key
    for key, storage_class, status in MIXED
    if storage_class != "STANDARD" and (storage_class != "INTELLIGENT_TIERING" or status)
]


def _rows_of(stack: LocalStack, key: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(stack.deployment.catalog_table)
    uri = f"s3://{stack.deployment.input_bucket}/{key}"
    return list(table.query(KeyConditionExpression=Key("source_uri").eq(uri))["Items"])


def test_a_mixed_class_backfill_restores_only_the_cold_objects_and_transcribes_every_one_once(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    from collections import Counter

    from parakeet_cli.backfill import restore_estimate
    from tests.workflow.test_backfill import backfill

    bucket = stack.deployment.input_bucket
    s3 = boto3.client("s3", region_name="us-east-1")
    assert stack.cold is not None and stack.ingress is not None
    # Given a library that was there before the stack (its uploads sent no event here)
    speech = clips["short"].read_bytes()
    with stack.ingress.silenced():
        for i, (key, storage_class, status) in enumerate(MIXED):
            if status:
                stack.cold.archive(bucket, key, status)
            s3.put_object(Bucket=bucket, Key=key, Body=speech + b"\0\0" * i, StorageClass=storage_class)

    # When it is dry-run: every object would start, counted per storage class, the cold ones priced
    dry = backfill(stack, prefix=LIBRARY, dry_run=True)
    assert (dry["total"], dry["would_start"], dry["started"]) == (30, 30, 0)
    assert {label: count["objects"] for label, count in dry["storage_classes"].items()} == {
        "STANDARD": 12,
        "GLACIER": 6,
        "DEEP_ARCHIVE": 6,
        "INTELLIGENT_TIERING": 3,
        "INTELLIGENT_TIERING/ARCHIVE_ACCESS": 3,
    }
    priced = restore_estimate(dry, "bulk")
    assert priced is not None and priced["objects"] == 15
    assert priced["hours_at_most"] == 48.0  # Deep Archive bulk
    assert stack.cold.restore_requests == [] and stack.bridge.batch_jobs == []

    # When it runs restoring in bulk, at most 10 restores
    first = backfill(stack, prefix=LIBRARY, restore={"tier": "bulk", "max_restores": 10})
    # Then the 15 warm objects are transcribed, 10 cold ones restoring, 5 skipped by the cap
    assert (first["transcribed"], first["restoring"], first["restores_requested"]) == (15, 10, 10), first
    assert first["skipped"] == {"restore_cap": 5}
    # When it runs again without a cap
    second = backfill(stack, prefix=LIBRARY, restore={"tier": "bulk"})
    # Then only the 5 cold ones left are restored; nothing else is started again
    assert (second["restoring"], second["restores_requested"], second["started"]) == (5, 5, 5), second
    assert second["skipped"] == {"restoring": 10, "transcribed": 15}

    # When S3 completes every restore (each sends Object Restore Completed to the ingress)
    for key in COLD_KEYS:
        stack.cold.complete_restore(bucket, key)
    deadline = time.monotonic() + 600
    while not all(r["status"] == "TRANSCRIBED" for key, _, _ in MIXED for r in _rows_of(stack, key)):
        assert time.monotonic() < deadline, "the restored objects were not transcribed"
        time.sleep(0.5)

    # Then every object is transcribed exactly once, and only the cold ones were ever restored, once each
    assert all(len(_rows_of(stack, key)) == 1 for key, _, _ in MIXED)
    jobs: Counter[str] = Counter(
        key for job in stack.bridge.batch_jobs for key, _, _ in MIXED if key in " ".join(job.command)
    )
    assert jobs == Counter({key: 1 for key, _, _ in MIXED})
    assert sorted(key for _, key, _ in stack.cold.restore_requests) == sorted(COLD_KEYS)
    # And the originals keep their storage class
    for key, storage_class, _ in MIXED:
        assert s3.head_object(Bucket=bucket, Key=key).get("StorageClass", "STANDARD") == storage_class


@pytest.mark.parametrize(
    ("storage_class", "archive_status", "tag"),
    [("GLACIER", None, "standard"), ("INTELLIGENT_TIERING", "ARCHIVE_ACCESS", "bulk")],
)
def test_each_archive_with_restore_on_ends_transcribed_from_the_same_version_after_the_restore(
    stack: LocalStack, clips: dict[str, Path], storage_class: str, archive_status: str | None, tag: str
) -> None:
    # Given a cold upload tagged for a restore (Deep Archive: the test above)
    key = f"vault/{storage_class.lower()}-restored.wav"
    bucket = stack.deployment.input_bucket
    assert stack.cold is not None
    if archive_status:
        stack.cold.archive(bucket, key, archive_status)
    event, report = runner.upload_and_run(
        stack.deployment,
        str(clips["short"]),
        key,
        StorageClass=storage_class,
        Tagging=f"restore-archived={tag}",
    )
    assert report is not None and report.states == [*COLD_PATH, "Restoring"], report and report.cause
    row = catalog_row(stack, event)
    assert row is not None and row["archive"]["tier"] == tag.capitalize()
    # An Intelligent-Tiering restore takes no Days (the object itself moves back to Frequent Access)
    assert ("days" in row["archive"]) is (archive_status is None)

    # When S3 completes it
    completed = stack.cold.complete_restore(bucket, key)
    stack.ingress.wait_idle(60)  # type: ignore[union-attr]
    name = runner.planned_name(stack.deployment, completed)
    assert name is not None
    restored = runner.wait_for(runner.execution_arn(stack.deployment, name))

    # Then the execution on the restored copy transcribes the very upload the first event named
    assert restored.status == "SUCCEEDED" and restored.states == TRANSCRIBED_PATH, restored.cause
    row = catalog_row(stack, event)
    assert row is not None and row["status"] == "TRANSCRIBED"
    assert completed["detail"]["object"]["etag"] == event["detail"]["object"]["etag"]
    [job] = stack.bridge.batch_jobs
    assert event["detail"]["object"]["etag"] in " ".join(job.command)
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket=bucket, Key=key)
    assert head["StorageClass"] == storage_class
