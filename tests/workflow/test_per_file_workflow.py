"""Specifications of the per-file workflow, executed by moto's Step Functions interpreter.

Each test uploads to the local input bucket, delivers the upload's EventBridge event like the
template's rule would, and inspects what the real ASL did: the states it visited, the Batch jobs
it submitted (counted by the bridge), the catalog row and the files in the output bucket.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
from pipeline.contracts import TranscriptionRequest
from pipeline.outcomes import BAD_INPUT_ERROR_NAMES

from local_emulator import runner
from local_emulator.stack import LocalStack

HAPPY_PATH = ["Claim", "IsClaimed", "Probe", "Plan", "ChoosePath", "Transcribe", "Postprocess", "Index"]
OUTPUT_FILES = ("transcript.json", "transcript.srt", "transcript.vtt", "transcript.txt")


def catalog_row(stack: LocalStack, event: dict[str, Any]) -> dict[str, Any] | None:
    detail = event["detail"]
    from urllib.parse import unquote_plus

    uri = f"s3://{detail['bucket']['name']}/{unquote_plus(detail['object']['key'])}"
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(stack.deployment.catalog_table)
    return table.get_item(Key={"source_uri": uri, "etag": detail["object"]["etag"]}).get("Item")


def job_request(command: list[str]) -> TranscriptionRequest:
    """What the Batch job was told to do: its command is ``--request <TranscriptionRequest JSON>``."""
    flag, payload = command
    assert flag == "--request"
    return TranscriptionRequest.model_validate_json(payload)


def output_keys(stack: LocalStack) -> set[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=stack.deployment.output_bucket).get("Contents", [])
    return {o["Key"] for o in listed}


def test_short_file_is_transcribed_with_full_attention(stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given a 2.6 s speech clip and a stack whose full-attention limit is 5 s
    # When it is uploaded
    event, report = runner.upload_and_run(stack.deployment, str(clips["short"]), "meetings/short clip.wav")

    # Then every state of the happy path ran, in order, and the execution succeeded
    assert report is not None
    assert report.status == "SUCCEEDED", report.cause
    assert report.states == HAPPY_PATH
    assert report.output is not None
    assert report.output["plan"]["mode"] == "full"
    assert report.output["plan"]["path"] == "job"
    assert report.output["job"] == {"job_id": stack.bridge.batch_jobs[0].job_id, "status": "SUCCEEDED"}
    # And exactly one Batch job ran, on the small queue with the one job definition
    [job] = stack.bridge.batch_jobs
    assert job.job_queue == stack.deployment.ref("JobQueueSMALL")
    assert job.job_definition == stack.deployment.ref("GpuJobDefinition")
    request = job_request(job.command)
    assert request.mode == "full"
    assert request.source.model_dump(mode="json") == report.output["claim"]["source"]
    assert [a.exit_code for a in job.attempts] == [0]
    # And the transcript, subtitles, text and segment lines are in the output bucket
    keys = output_keys(stack)
    assert {f"transcripts/meetings/short clip.wav/{name}" for name in OUTPUT_FILES} <= keys
    [segments] = [k for k in keys if k.startswith("segments/")]
    assert re.fullmatch(r"segments/dt=\d{4}-\d\d-\d\d/meetings/short clip\.wav\.jsonl", segments)
    # And the catalog says so
    row = catalog_row(stack, event)
    assert row is not None
    assert row["status"] == "TRANSCRIBED"
    assert row["mode"] == "full"
    assert row["execution_arn"] == report.execution_arn


def test_long_file_is_streamed_in_chunks(stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given an 8.3 s mp3 and a stack that streams everything longer than 6 s in 4 s chunks
    # When it is uploaded
    event, report = runner.upload_and_run(stack.deployment, str(clips["long"]), "long.mp3")

    # Then the plan is streaming, with the template's chunk settings in the job's request
    assert report is not None
    assert report.status == "SUCCEEDED", report.cause
    assert report.states == HAPPY_PATH
    assert report.output is not None
    assert report.output["plan"]["mode"] == "streaming"
    [job] = stack.bridge.batch_jobs
    assert job.job_definition == stack.deployment.ref("GpuJobDefinition")
    chunking = job_request(job.command).chunking
    assert chunking is not None and (chunking.chunk_s, chunking.left_s, chunking.right_s) == (4, 2, 1)
    # And its outputs and catalog row exist
    assert {f"transcripts/long.mp3/{name}" for name in OUTPUT_FILES} <= output_keys(stack)
    row = catalog_row(stack, event)
    assert row is not None
    assert (row["status"], row["mode"]) == ("TRANSCRIBED", "streaming")


def test_duplicate_event_runs_one_job(stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given an upload whose workflow has completed
    event, first = runner.upload_and_run(stack.deployment, str(clips["short"]), "dup.wav")
    assert first is not None and first.status == "SUCCEEDED", first and first.cause

    # When EventBridge delivers the same event again (at-least-once delivery)
    second = runner.deliver(stack.deployment, event)

    # Then the starter is refused by the execution's name: no second execution, nothing submitted
    # (another execution of the same upload, under another name, stops at Claim: test_ingress.py)
    assert second is not None
    assert second.execution_arn == first.execution_arn
    assert stack.ingress is not None and stack.ingress.start_counts() == {"started": 1, "refused": 1}
    assert len(stack.bridge.batch_jobs) == 1
    # And the catalog still holds the first execution's result
    row = catalog_row(stack, event)
    assert row is not None
    assert row["status"] == "TRANSCRIBED"
    assert row["execution_arn"] == first.execution_arn


def test_corrupt_file_records_a_typed_failure_without_a_batch_job(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given bytes that are not decodable audio, named like an mp3
    # When they are uploaded
    event, report = runner.upload_and_run(stack.deployment, str(clips["corrupt"]), "broken.mp3")

    # Then Probe fails with a bad-input error, the failure is recorded and the execution fails
    assert report is not None
    assert report.status == "FAILED"
    assert report.states == ["Claim", "IsClaimed", "Probe", "RecordFailure", "IsSuperseded", "Failed"]
    assert report.error == "TranscriptionFailed"
    [probe_failure] = report.task_failures
    assert probe_failure["error"] in BAD_INPUT_ERROR_NAMES
    # And no GPU time was spent
    assert stack.bridge.batch_jobs == []
    # And the catalog row carries the typed reason
    row = catalog_row(stack, event)
    assert row is not None
    assert row["status"] == "FAILED"
    assert row["reason_class"] == "bad_input"
    assert row["error"] == probe_failure["error"]


def test_batch_failure_after_spot_retries_is_recorded(stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given every Spot instance the job lands on is reclaimed
    stack.bridge.simulate_spot_reclaims(10)

    # When a file is uploaded
    event, report = runner.upload_and_run(stack.deployment, str(clips["short"]), "unlucky.wav")

    # Then Batch retried the job as its RetryStrategy allows (3 attempts), then gave up
    [job] = stack.bridge.batch_jobs
    assert [a.status_reason.startswith("Host EC2") for a in job.attempts] == [True, True, True]
    assert job.status == "FAILED"
    # And the workflow recorded an internal failure and ended failed, without postprocessing
    assert report is not None
    assert report.status == "FAILED"
    assert report.states == [
        "Claim",
        "IsClaimed",
        "Probe",
        "Plan",
        "ChoosePath",
        "Transcribe",
        "RecordFailure",
        "IsSuperseded",
        "Failed",
    ]
    assert report.error == "TranscriptionFailed"
    assert [f["error"] for f in report.task_failures] == ["States.TaskFailed"]
    row = catalog_row(stack, event)
    assert row is not None
    assert row["status"] == "FAILED"
    assert row["reason_class"] == "internal"
    # And RecordFailure read the job description as AWS spells it (the bridge turns moto's camelCase
    # into PascalCase): the job, its attempts and the host's reason are on the row
    assert (row["reason"], row["batch_job_id"]) == ("batch.job_failed", job.job_id)
    assert row["status_reason"].startswith("Host EC2")
    assert "after 3 attempt(s)" in row["message"]
    assert not any(key.startswith("transcripts/unlucky.wav/transcript") for key in output_keys(stack))


def test_one_spot_reclaim_is_retried_by_batch_not_by_the_workflow(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given the first attempt's Spot instance is reclaimed
    stack.bridge.simulate_spot_reclaims(1)

    # When a file is uploaded
    event, report = runner.upload_and_run(stack.deployment, str(clips["short"]), "reclaimed-once.wav")

    # Then the same Batch job succeeds on its second attempt and the workflow never resubmits
    assert report is not None
    assert report.status == "SUCCEEDED", report.cause
    assert report.states == HAPPY_PATH
    [job] = stack.bridge.batch_jobs
    assert [a.exit_code for a in job.attempts] == [None, 0]
    row = catalog_row(stack, event)
    assert row is not None and row["status"] == "TRANSCRIBED"
