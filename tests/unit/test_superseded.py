"""Specification of a superseded upload in RecordFailure, and of the completion events it puts.

An upload whose key was overwritten while it was processed ends SUPERSEDED (neither bad input nor
internal), whichever state found out, and its row names the newer upload.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pipeline.contracts import CompletionEvent, FailureRequest, UploadedObject
from pipeline.outcomes import STATUS_FAILED, STATUS_SUPERSEDED
from record_failure.record import record_failure
from test_common_support import (
    OUT,
    REGION,
    AwsClients,
    FakeLambdaContext,
    create_bucket,
    create_catalog_table,
)

from local_emulator.runner import object_created_event
from tests.contract_examples import planned

BUCKET, KEY = "media-in", "calls/a b.wav"
URI = f"s3://{BUCKET}/{KEY}"


@pytest.fixture
def aws(clients: AwsClients) -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        create_bucket(clients.s3)
        create_bucket(clients.s3, BUCKET)
        yield create_catalog_table(clients.dynamodb), clients.s3


def upload(s3: Any, body: bytes, sequencer: str = "00A1") -> UploadedObject:
    put = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    version = put.get("VersionId")
    return UploadedObject(
        bucket=BUCKET,
        key=KEY,
        etag=put["ETag"].strip('"'),
        size=len(body),
        uri=URI,
        version_id=None if version in (None, "null") else version,
        sequencer=sequencer,
    )


def request(source: UploadedObject, error: dict[str, Any], plan: bool = False) -> FailureRequest:
    event = object_created_event(
        BUCKET, KEY, size=source.size or 0, etag=source.etag, version_id=source.version_id
    )
    state: dict[str, Any] = {
        **event,
        "claim": {"claimed": True, "source": source.model_dump(mode="json")},
        "error": error,
    }
    if plan:
        state["plan"] = planned(source, duration_s=60.0, output_bucket=OUT).model_dump(mode="json")
    return FailureRequest(state=state, execution_arn="arn:exec:old")


def lambda_error(error_type: str, message: str = "changed") -> dict[str, str]:
    return {"Error": error_type, "Cause": json.dumps({"errorMessage": message, "errorType": error_type})}


def job_exited(code: int = 65) -> dict[str, str]:
    job = {
        "JobId": "job-1",
        "Status": "FAILED",
        "StatusReason": "Essential container in task exited",
        "Container": {"ExitCode": code},
        "Attempts": [{"Container": {"ExitCode": code}}],
    }
    return {"Error": "States.TaskFailed", "Cause": json.dumps(job)}


def row(table: Any, source: UploadedObject) -> dict[str, Any]:
    return table.get_item(Key={"source_uri": source.uri, "etag": source.etag})["Item"]


def test_a_superseded_upload_is_recorded_superseded_naming_the_newer_upload(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    # Given an upload overwritten by a newer one whose execution already claimed it
    old = upload(s3, b"first")
    new = upload(s3, b"second", sequencer="00A2")
    table.put_item(Item={"source_uri": URI, "etag": new.etag, "status": "CLAIMED", "sequencer": "00A2"})

    # When Probe's pinned read failed with SourceSuperseded
    result = record_failure(table, s3, request(old, lambda_error("SourceSuperseded")))

    # Then SUPERSEDED: neither bad input nor internal, naming the newer upload and its sequencer
    assert (result.status, result.reason, result.reason_class) == ("SUPERSEDED", "superseded", None)
    assert result.superseded_by is not None
    assert (result.superseded_by.etag, result.superseded_by.sequencer) == (new.etag, "00A2")
    item = row(table, old)
    assert item["status"] == STATUS_SUPERSEDED
    assert item["superseded_by"] == {"etag": new.etag, "sequencer": "00A2", "deleted": False}
    assert (item["sequencer"], item["error"]) == ("00A1", "SourceSuperseded")
    assert "reason_class" not in item


def test_in_a_versioned_bucket_the_row_names_the_newer_version(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    old = upload(s3, b"first")
    new = upload(s3, b"second")

    result = record_failure(table, s3, request(old, lambda_error("SourceSuperseded")))

    assert result.superseded_by is not None
    assert (result.superseded_by.version_id, result.superseded_by.etag) == (new.version_id, new.etag)
    assert row(table, old)["superseded_by"]["version_id"] == new.version_id


def test_a_job_that_found_its_upload_gone_is_superseded_by_its_exit_code(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    old = upload(s3, b"first")
    new = upload(s3, b"second")
    # Given a Batch job that exited 66 (gpu_job.outcome: the key no longer holds the upload; nothing written)
    state = request(old, job_exited(66), plan=True)

    result = record_failure(table, s3, state)

    assert (result.status, result.reason) == ("SUPERSEDED", "superseded")
    assert result.superseded_by is not None and result.superseded_by.etag == new.etag


def test_the_asl_caught_supersession_by_name_is_recorded_without_classifying(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    old = upload(s3, b"first")
    upload(s3, b"second")
    # Given RecordSuperseded's request: the ASL caught SourceSuperseded by name and says so
    state = request(old, lambda_error("SourceSuperseded", "412 on the pinned read"))
    state = state.model_copy(update={"outcome": "SUPERSEDED"})

    result = record_failure(table, s3, state)

    assert (result.status, result.reason_class) == ("SUPERSEDED", None)
    assert row(table, old)["status"] == STATUS_SUPERSEDED


def test_an_error_json_of_another_upload_is_not_taken_for_this_ones(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    # Given the job rejected this upload, and the shared prefix holds the newer upload's error.json
    old = upload(s3, b"first")
    upload(s3, b"second")
    state = request(old, job_exited(65), plan=True)
    prefix = state.state["plan"]["request"]["output_prefix"].removeprefix(f"s3://{OUT}/")
    error = {"error": "CorruptMedia", "message": "newer is corrupt", "input": URI, "etag": "f" * 32}
    s3.put_object(Bucket=OUT, Key=prefix + "error.json", Body=json.dumps(error))

    # Then this upload is superseded (the key holds another), not "CorruptMedia"
    result = record_failure(table, s3, state)
    assert (result.status, result.reason) == ("SUPERSEDED", "superseded")


def test_reported_superseded_while_the_key_still_holds_the_upload_is_internal(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    current = upload(s3, b"only")

    result = record_failure(table, s3, request(current, lambda_error("SourceSuperseded")))

    assert (result.status, result.reason_class) == ("FAILED", "internal")
    assert row(table, current)["status"] == STATUS_FAILED


def test_a_real_bad_input_of_the_current_upload_stays_bad_input(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    current = upload(s3, b"only")

    result = record_failure(table, s3, request(current, lambda_error("CorruptMedia", "bad frame")))

    assert (result.status, result.reason, result.reason_class) == ("FAILED", "CorruptMedia", "bad_input")


# ---------------------------------------------------------------- completion events
def completion_queue() -> str:
    sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="completions")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="completions",
        EventPattern=json.dumps(
            {
                "source": ["parakeet.transcription"],
                "detail-type": ["Transcript Failed", "Transcript Superseded"],
            }
        ),
    )
    events.put_targets(Rule="completions", Targets=[{"Id": "q", "Arn": arn}])
    return url


def received(url: str) -> list[dict[str, Any]]:
    messages = (
        boto3.client("sqs", region_name=REGION)
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    return [json.loads(m["Body"]) for m in messages]


def test_the_handler_announces_failed_and_superseded_uploads(aws: tuple[Any, Any]) -> None:
    import record_failure.app

    _, s3 = aws
    queue = completion_queue()
    old = upload(s3, b"first")
    new = upload(s3, b"second")

    record_failure.app.handler(
        request(old, lambda_error("SourceSuperseded")).model_dump(mode="json"), FakeLambdaContext()
    )
    record_failure.app.handler(
        request(new, lambda_error("CorruptMedia", "bad frame"), plan=True).model_dump(mode="json"),
        FakeLambdaContext(),
    )

    events = {e["detail-type"]: e for e in received(queue)}
    assert set(events) == {"Transcript Superseded", "Transcript Failed"}
    superseded = CompletionEvent.model_validate(events["Transcript Superseded"]["detail"])
    assert (superseded.status, superseded.upload) == ("SUPERSEDED", old)
    assert superseded.execution_arn == "arn:exec:old"
    assert superseded.superseded_by is not None and superseded.superseded_by.etag == new.etag
    failed = CompletionEvent.model_validate(events["Transcript Failed"]["detail"])
    assert (failed.reason, failed.reason_class, failed.message) == ("CorruptMedia", "bad_input", "bad frame")
    assert (failed.mode, failed.duration_s) == ("batched", 60.0)


def test_a_row_left_transcribed_announces_nothing(aws: tuple[Any, Any]) -> None:
    import record_failure.app

    table, s3 = aws
    queue = completion_queue()
    current = upload(s3, b"only")
    table.put_item(Item={"source_uri": URI, "etag": current.etag, "status": "TRANSCRIBED"})

    result = record_failure.app.handler(
        request(current, lambda_error("TransientError")).model_dump(mode="json"), FakeLambdaContext()
    )

    assert result["recorded"] is False
    assert received(queue) == []
