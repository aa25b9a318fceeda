"""Specification of the ingress, run locally in the deployed shape (local_emulator.ingress):

upload -> S3 Object Created event -> UploadEventRule -> UploadQueue -> StartExecutionFunction (SQS event
source, partial batch responses) -> the execution named after the upload -> its catalog row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from pipeline.naming import execution_name
from pipeline.uploads import uploaded_object_from_event

from local_emulator import runner
from local_emulator.runner import TERMINAL, Upload
from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack
from tests.workflow.conftest import WORKFLOW_PARAMETERS

REGION = "us-east-1"
IGNORED = ".txt,.json"


@pytest.fixture
def ingress_stack() -> Iterator[LocalStack]:
    with local_stack(
        parameter_overrides={**WORKFLOW_PARAMETERS, "IgnoreKeySuffixes": IGNORED}, model=str(RANDOM_MODEL)
    ) as local:
        yield local


def catalog_row(stack: LocalStack, event: dict[str, Any]) -> dict[str, Any] | None:
    source = uploaded_object_from_event(event)
    table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
    return table.get_item(Key={"source_uri": source.uri, "etag": source.etag}).get("Item")


def queue_depth(url: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return sum(int(v) for v in attributes["Attributes"].values())


def executions(stack: LocalStack) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sfn.list_executions(stateMachineArn=stack.deployment.state_machine_arn)["executions"]


class FlakyStepFunctions:
    """The starter's Step Functions client, throttled for the first ``failures`` StartExecution calls."""

    def __init__(self, real: Any, failures: int) -> None:
        self.real, self.failures, self.calls = real, failures, 0

    def start_execution(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution"
            )
        return self.real.start_execution(**kwargs)


def throttle_starter(monkeypatch: pytest.MonkeyPatch, failures: int) -> FlakyStepFunctions:
    import start_execution.app as app

    flaky = FlakyStepFunctions(app.stepfunctions_client(), failures)
    monkeypatch.setattr(app, "stepfunctions_client", lambda: flaky)
    return flaky


# ---------------------------------------------------------------- one upload
def test_an_upload_goes_through_the_queue_to_an_execution_named_after_the_file(
    ingress_stack: LocalStack, clips: dict[str, Path]
) -> None:
    stack = ingress_stack
    # When a clip is uploaded with a plain S3 PutObject
    event, report = runner.upload_and_run(stack.deployment, str(clips["short"]), "calls/agent one.wav")

    # Then S3 emitted the AWS-shaped event (etag, URL-encoded key, no null version-id)
    obj = event["detail"]["object"]
    assert obj["key"] == "calls/agent+one.wav" and "etag" in obj and "eTag" not in obj
    assert "version-id" not in obj and obj["sequencer"] != "617f08299329d189"
    # And the starter, fed by the queue, started the execution named after the upload, which succeeded
    assert report is not None and report.status == "SUCCEEDED", report and report.cause
    name = execution_name(uploaded_object_from_event(event))
    assert report.execution_arn.endswith(":" + name) and name.startswith("calls_agent-one-wav-")
    first_invoked = stack.bridge.lambda_invocations[0].function_name
    assert first_invoked == stack.deployment.ref("StartExecutionFunction")
    # And the queue is empty, nothing dead-lettered
    assert queue_depth(stack.deployment.ref("UploadQueue")) == 0
    assert queue_depth(stack.deployment.ref("UploadEventDeadLetterQueue")) == 0
    row = catalog_row(stack, event)
    assert row is not None and row["status"] == "TRANSCRIBED" and row["execution_arn"] == report.execution_arn


def test_a_zero_byte_upload_ends_as_a_failed_zero_byte_object_row(
    ingress_stack: LocalStack, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    event, report = runner.upload_and_run(ingress_stack.deployment, str(empty), "meetings/empty.wav")
    assert report is not None and report.status == "FAILED"
    assert report.states == ["Claim", "RecordFailure", "IsSuperseded", "Failed"]
    row = catalog_row(ingress_stack, event)
    assert row is not None
    assert (row["status"], row["reason"], row["reason_class"]) == ("FAILED", "ZeroByteObject", "bad_input")


def test_folder_markers_and_ignored_suffixes_start_nothing(ingress_stack: LocalStack, tmp_path: Path) -> None:
    stack = ingress_stack
    notes = tmp_path / "notes"
    notes.write_text("not audio")
    # A folder marker does not match the rule; an ignored suffix (any case) is dropped by the starter
    assert runner.upload_and_run(stack.deployment, str(notes), "meetings/")[1] is None
    assert runner.upload_and_run(stack.deployment, str(notes), "meetings/readme.TXT")[1] is None
    assert runner.upload_and_run(stack.deployment, str(notes), "meetings/meta.json")[1] is None
    assert executions(stack) == []
    assert stack.ingress is not None
    assert sum(p.stats.received for p in stack.ingress.pollers) == 2  # the two ignored files only
    assert queue_depth(stack.deployment.ref("UploadQueue")) == 0


# ---------------------------------------------------------------- duplicates, retries, bad records
def test_a_duplicate_delivery_is_refused_by_name(ingress_stack: LocalStack, tmp_path: Path) -> None:
    stack = ingress_stack
    empty = tmp_path / "e.wav"
    empty.write_bytes(b"")
    event, first = runner.upload_and_run(stack.deployment, str(empty), "dup/e.wav")
    second = runner.deliver(stack.deployment, event)
    again = runner.deliver(stack.deployment, {**event, "id": "another-event-id"})
    assert first is not None and second is not None and again is not None
    assert first.execution_arn == second.execution_arn == again.execution_arn
    assert len(executions(stack)) == 1
    assert stack.ingress is not None and stack.ingress.start_counts() == {"started": 1, "refused": 2}


def test_a_throttled_start_goes_back_to_the_queue_and_starts_on_redelivery(
    ingress_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = ingress_stack
    flaky = throttle_starter(monkeypatch, failures=2)
    empty = tmp_path / "t.wav"
    empty.write_bytes(b"")
    _, report = runner.upload_and_run(stack.deployment, str(empty), "throttled/t.wav", timeout_s=300)
    assert report is not None and report.status == "FAILED"  # ZeroByteObject: it reached the workflow
    assert flaky.calls == 3
    assert stack.ingress is not None
    [poller] = stack.ingress.pollers
    assert (poller.stats.received, poller.stats.item_failures, poller.stats.deleted) == (3, 2, 1)
    assert len(executions(stack)) == 1


def test_a_record_that_keeps_failing_is_parked_in_the_dead_letter_queue(
    ingress_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = ingress_stack
    throttle_starter(monkeypatch, failures=10**6)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=stack.deployment.input_bucket, Key="lost.wav", Body=b"x"
    )
    assert stack.ingress is not None
    # Then the dead-letter queue keeps the event (waited for: the redrive happens on a later receive,
    # and the queue is briefly empty-looking while the record is between deliveries)
    sqs = boto3.client("sqs", region_name=REGION)
    dead_letters = stack.deployment.ref("UploadEventDeadLetterQueue")
    parked_messages: list[dict] = []
    deadline = time.monotonic() + 300
    while not parked_messages and time.monotonic() < deadline:
        parked_messages = sqs.receive_message(QueueUrl=dead_letters, WaitTimeSeconds=1).get("Messages", [])
    stack.ingress.wait_idle(timeout_s=300)
    [parked] = parked_messages
    # after exactly maxReceiveCount deliveries to the starter
    max_receives = 5
    assert sum(p.stats.received for p in stack.ingress.pollers) == max_receives
    assert json.loads(parked["Body"])["detail"]["object"]["key"] == "lost.wav"
    assert executions(stack) == []


def test_a_record_that_is_no_upload_event_is_recorded_as_a_typed_failure(ingress_stack: LocalStack) -> None:
    stack = ingress_stack
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(QueueUrl=stack.deployment.ref("UploadQueue"), MessageBody="this is not an S3 event")
    assert stack.ingress is not None
    stack.ingress.wait_idle(timeout_s=300)
    [execution] = executions(stack)
    assert execution["name"].startswith("invalid-event-")
    report = runner.wait_for(execution["executionArn"], timeout_s=300)
    assert report.status == "FAILED" and report.states == ["Claim", "RecordFailure", "IsSuperseded", "Failed"]
    table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
    row = table.get_item(Key={"source_uri": "s3://unknown/unknown", "etag": "unknown"}).get("Item")
    assert row is not None and (row["status"], row["reason"]) == ("FAILED", "UnsupportedInput")
    assert row["failed_execution_arn"] == execution["executionArn"]


# ---------------------------------------------------------------- many at once
def test_concurrent_uploads_with_duplicates_and_an_overwrite_lose_nothing_and_run_no_job_twice(
    ingress_stack: LocalStack, clips: dict[str, Path]
) -> None:
    stack = ingress_stack
    short, long, corrupt = clips["short"], clips["long"], clips["corrupt"]
    uploads = [
        Upload(f"load/call-{i:02d}.wav", short, redeliveries=1 if i % 4 == 0 else 0) for i in range(12)
    ]
    uploads += [
        Upload("load/overwritten.wav", short),
        Upload("load/overwritten.wav", long),  # an overwrite
        Upload("load/same.wav", short),
        Upload("load/same.wav", short),  # identical bytes again: same upload
        Upload("load/empty.wav", b""),
        Upload("load/broken.mp3", corrupt),
        Upload("load/notes.txt", b"not audio"),
        Upload("load/", b""),
    ]
    assert len(uploads) == 20

    load = runner.upload_many(stack.deployment, uploads, timeout_s=600, workers=8)
    print(json.dumps(load.figures(), indent=1))

    redelivered = sum(u.redeliveries for u in uploads)
    # Every upload ended: 0 lost, 0 hangs, every expected execution terminal
    assert (load.lost, load.hangs, load.dead_lettered) == (0, 0, 0)
    assert load.skipped == 2  # the ignored .txt and the folder marker
    assert all(r.status in TERMINAL for r in load.uploads if r.execution_name)
    # One execution per upload (a PUT of identical bytes too: Claim ends it, docs/EXACT_BYTES.md);
    # duplicate deliveries refused by name
    assert load.distinct_executions == 12 + 2 + 2 + 1 + 1 == load.executions_started
    assert load.duplicates_refused == redelivered
    assert load.deliveries == 20 + redelivered  # the folder marker's event too: the rule drops it
    assert load.received == 19 + redelivered and load.item_failures == 0
    assert len(executions(stack)) == load.distinct_executions
    # No upload's bytes got a second GPU job; executions were in flight together
    assert load.duplicate_gpu_jobs == 0
    assert load.gpu_jobs <= 12 + 2 + 1
    assert load.max_running >= 2
    # Every upload has its typed outcome in the catalog
    by_key = {r.key: r for r in load.uploads}
    assert (by_key["load/empty.wav"].catalog_status, by_key["load/empty.wav"].catalog_reason) == (
        "FAILED",
        "ZeroByteObject",
    )
    assert by_key["load/broken.mp3"].catalog_status == "FAILED"
    for report in load.uploads:
        if report.key.startswith("load/call-"):
            assert (report.status, report.catalog_status) == ("SUCCEEDED", "TRANSCRIBED"), report
        if report.execution_name:
            assert report.catalog_status in {"TRANSCRIBED", "FAILED", "SUPERSEDED"}, report
