"""Specifications of the worker pool for short files, executed by moto's Step Functions interpreter.

A short upload takes ChoosePath -> ScalePool -> TranscribeInPool: one PoolTask message on the pool
queue, answered through its task token by a pool worker (a Batch job the scaler started, running
here as a thread of the real gpu_job.pool.worker). The stack's timeouts are compressed (token checks
every 1.5 s, visibility 2 s, idle exit 3 s, the scaler's one-minute schedule every second) so that
dead workers and poison messages play out in seconds.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pipeline.outcomes import BAD_INPUT_ERROR_NAMES

from local_emulator import runner
from local_emulator.bridges import _COMPUTE_LOCK, ANTLR
from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack
from tests.workflow.conftest import WORKFLOW_PARAMETERS
from tests.workflow.test_per_file_workflow import catalog_row, output_keys

REGION = "us-east-1"
POOL_PARAMETERS = {
    **WORKFLOW_PARAMETERS,
    "PoolMaxSeconds": "5",
    "MaxPoolWorkers": "2",
    "PoolFilesPerWorker": "10",
    "PoolTaskHeartbeatSeconds": "6",
    "PoolVisibilitySeconds": "2",
    "PoolIdleExitSeconds": "3",
}
POOL_PATH = [
    "Claim",
    "IsClaimed",
    "Probe",
    "Plan",
    "ChoosePath",
    "ScalePool",
    "TranscribeInPool",
    "Postprocess",
    "Index",
]


def _pool_stack(**overrides: str) -> Iterator[LocalStack]:
    # The model is loaded (and memoised) before the clock of any heartbeat starts: a worker's first
    # load in a fresh process includes NeMo's import, which is not what these specifications time.
    from gpu_job import api

    with _COMPUTE_LOCK, ANTLR.active("venv"):
        api.load_model(str(RANDOM_MODEL), "cpu")
    with local_stack(
        parameter_overrides={**POOL_PARAMETERS, **overrides}, model=str(RANDOM_MODEL), pool_schedule_s=1.0
    ) as local:
        yield local


@pytest.fixture
def pool_stack() -> Iterator[LocalStack]:
    yield from _pool_stack()


@pytest.fixture
def unscaled_pool_stack() -> Iterator[LocalStack]:
    """A pool nobody scales: workers start only when a test submits one."""
    yield from _pool_stack(MaxPoolWorkers="0")


@pytest.fixture(scope="module")
def body_corrupt_flac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A FLAC whose header (and so the probe) is intact but whose frames are noise: gpu_job rejects it."""
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        pytest.fail("espeak-ng and ffmpeg are required (scripts/setup.sh installs them)")
    root = tmp_path_factory.mktemp("pool")
    wav, flac = root / "speech.wav", root / "corrupt-body.flac"
    speak = ["espeak-ng", "-s", "160", "-w", str(wav), "Hello there. This clip is broken."]
    subprocess.run(speak, check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", str(flac)], check=True)
    data = bytearray(flac.read_bytes())
    noise = random.Random(1)
    for i in range(4096, len(data)):
        data[i] = noise.randrange(256)
    flac.write_bytes(bytes(data))
    return flac


def worker_jobs(stack: LocalStack) -> list[Any]:
    return [job for job in stack.bridge.batch_jobs if job.command[:1] == ["pool"]]


def per_file_jobs(stack: LocalStack) -> list[Any]:
    return [job for job in stack.bridge.batch_jobs if job.command[:1] != ["pool"]]


def transcript_versions(stack: LocalStack, key: str) -> int:
    s3 = boto3.client("s3", region_name=REGION)
    listed = s3.list_object_versions(
        Bucket=stack.deployment.output_bucket, Prefix=f"transcripts/{key}/transcript.json"
    )
    return len(listed.get("Versions", []))


def test_a_short_file_is_transcribed_by_a_pool_worker(pool_stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given a 2.6 s clip and a stack that sends files up to 5 s to the pool
    # When it is uploaded
    event, report = runner.upload_and_run(pool_stack.deployment, str(clips["short"]), "calls/short.wav")

    # Then it went through the pool, not a Batch job of its own
    assert report is not None and report.status == "SUCCEEDED", report and report.cause
    assert report.states == POOL_PATH
    assert report.output is not None and report.output["plan"]["path"] == "pool"
    assert per_file_jobs(pool_stack) == []
    # And the scaler started one worker, whose Batch job id the execution's output names
    [worker] = worker_jobs(pool_stack)
    assert report.output["pool"]["started"] == [worker.job_id]
    job = report.output["job"]
    assert (job["job_id"], job["status"], job["batch_files"]) == (worker.job_id, "SUCCEEDED", 1)
    assert job["gpu_seconds"] > 0
    # And the catalog row names that worker and prices the file's share of its GPU time
    row = catalog_row(pool_stack, event)
    assert row is not None and row["status"] == "TRANSCRIBED"
    assert row["batch_job_id"] == worker.job_id
    price = float(report.output["plan"]["price_per_hour_usd"])
    assert float(row["cost_estimate_usd"]) == pytest.approx(job["gpu_seconds"] * price / 3600, abs=1e-6)
    # And the outputs are those of a per-file job, written once
    assert {f"transcripts/calls/short.wav/{n}" for n in ("transcript.json", "transcript.srt")} <= output_keys(
        pool_stack
    )
    assert transcript_versions(pool_stack, "calls/short.wav") == 1


def test_a_burst_is_served_by_one_worker_with_one_model_load(
    pool_stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given six short uploads arriving together (fewer than PoolFilesPerWorker=10)
    s3 = boto3.client("s3", region_name=REGION)
    keys = [f"burst/call-{i}.wav" for i in range(6)]
    for key in keys:
        s3.upload_file(str(clips["short"]), pool_stack.deployment.input_bucket, key)
    arns = [
        runner.start_execution(
            pool_stack.deployment, runner.event_for_object(pool_stack.deployment.input_bucket, key)
        )
        for key in keys
    ]

    # When their executions finish
    reports = [runner.wait_for(arn, timeout_s=300) for arn in arns]

    # Then all were transcribed, by the one worker the backlog needed, which loaded the model once
    assert [r.status for r in reports] == ["SUCCEEDED"] * len(keys), [r.cause for r in reports]
    [worker] = worker_jobs(pool_stack)
    assert {r.output["job"]["job_id"] for r in reports if r.output} == {worker.job_id}
    done = pool_stack.pool.reports[worker.job_id]
    assert (done.model_loads, done.succeeded) == (1, len(keys))


def test_a_bad_file_in_the_pool_is_a_typed_bad_input_failure_never_retried(
    pool_stack: LocalStack, body_corrupt_flac: Path
) -> None:
    # Given a FLAC the probe accepts (intact header) but whose audio does not decode
    # When it is uploaded
    event, report = runner.upload_and_run(pool_stack.deployment, str(body_corrupt_flac), "calls/broken.flac")

    # Then the worker answered the token with the typed error, which the workflow recorded as bad input
    assert report is not None and report.status == "FAILED"
    assert report.states == [*POOL_PATH[:7], "RecordFailure", "IsSuperseded", "Failed"]
    [failure] = report.task_failures
    assert failure["error"] in BAD_INPUT_ERROR_NAMES
    assert "decodes to no samples" in failure["cause"]  # the worker's error document travels as the cause
    row = catalog_row(pool_stack, event)
    assert row is not None
    assert (row["status"], row["reason_class"], row["reason"]) == ("FAILED", "bad_input", failure["error"])
    # And it was not retried: one message, one worker answer, and error.json as a per-file job writes it
    assert report.states.count("TranscribeInPool") == 1
    assert "transcripts/calls/broken.flac/error.json" in output_keys(pool_stack)


def test_a_worker_killed_mid_batch_loses_no_file(pool_stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given the first worker that holds this file dies while transcribing it (e.g. a Spot reclaim)
    pool_stack.pool.faults.kill_workers_on("killed.wav", times=1)

    # When the file is uploaded
    event, report = runner.upload_and_run(
        pool_stack.deployment, str(clips["short"]), "calls/killed.wav", timeout_s=300
    )

    # Then its message came back to the queue, the schedule started another worker, and that one did it
    assert report is not None and report.status == "SUCCEEDED", report.cause
    assert pool_stack.pool.faults.kills == 1
    dead, second = worker_jobs(pool_stack)[:2]
    assert dead.status == "FAILED" and dead.attempts[0].status_reason.startswith("Host EC2")
    assert report.output is not None and report.output["job"]["job_id"] == second.job_id
    row = catalog_row(pool_stack, event)
    assert row is not None and (row["status"], row["batch_job_id"]) == ("TRANSCRIBED", second.job_id)
    assert transcript_versions(pool_stack, "calls/killed.wav") == 1


def test_a_message_that_kills_every_worker_fails_typed_after_the_dead_letter_queue(
    pool_stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given a file that kills every worker that tries it
    pool_stack.pool.faults.kill_workers_on("poison.wav", times=1000)

    # When it is uploaded
    # (waited for up to 600 s: a hang would leave the execution RUNNING, which the status below rejects)
    event, report = runner.upload_and_run(
        pool_stack.deployment, str(clips["short"]), "calls/poison.wav", timeout_s=600
    )

    # Then after its message went to the dead-letter queue and the scaler's schedule failed its token,
    # the execution failed with a typed reason instead of hanging
    assert report is not None and report.status == "FAILED"
    assert report.states[-4:] == ["PoolWorkerLost", "RecordFailure", "IsSuperseded", "Failed"]
    assert report.states.count("TranscribeInPool") == 1  # not retried
    row = catalog_row(pool_stack, event)
    assert row is not None
    assert (row["status"], row["reason"], row["reason_class"]) == ("FAILED", "pool.worker_lost", "internal")
    sqs = boto3.client("sqs", region_name=REGION)
    parked = sqs.get_queue_attributes(
        QueueUrl=pool_stack.deployment.pool_dead_letter_queue_url, AttributeNames=["All"]
    )["Attributes"]
    # (still parked, for the alarm and for diagnosis: hidden once the scaler answered its token)
    held = int(parked["ApproximateNumberOfMessages"]) + int(parked["ApproximateNumberOfMessagesNotVisible"])
    assert held == 1
    # And its one message killed at most maxReceiveCount (3) workers before it was parked
    assert pool_stack.pool.faults.kills <= 3


def test_a_file_that_waits_in_the_queue_longer_than_any_heartbeat_is_still_transcribed(
    unscaled_pool_stack: LocalStack, clips: dict[str, Path]
) -> None:
    stack = unscaled_pool_stack
    sqs = boto3.client("sqs", region_name=REGION)
    # Given an upload queued while no worker runs (a backlog, or workers still starting), for longer than
    # three of the old task heartbeats (PoolTaskHeartbeatSeconds here: 6 s; with a heartbeat clock from
    # enqueue time it would have been retried twice and failed as pool.worker_lost, issue 22)
    waited_s = 3 * int(POOL_PARAMETERS["PoolTaskHeartbeatSeconds"]) + 1
    boto3.client("s3", region_name=REGION).upload_file(
        str(clips["short"]), stack.deployment.input_bucket, "calls/late.wav"
    )
    arn = runner.start_execution(
        stack.deployment, runner.event_for_object(stack.deployment.input_bucket, "calls/late.wav")
    )
    sfn = boto3.client("stepfunctions", region_name=REGION)
    queued_at, deadline = None, time.monotonic() + 60
    while queued_at is None or time.monotonic() - queued_at < waited_s:  # the wait under test, not a sync
        depth = sqs.get_queue_attributes(
            QueueUrl=stack.deployment.pool_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        if queued_at is None and int(depth["ApproximateNumberOfMessages"]) >= 1:
            queued_at = time.monotonic()
        assert queued_at is not None or time.monotonic() < deadline, "the file was never queued"
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        time.sleep(0.2)
    # (still one message: nothing was retried meanwhile)
    depth = sqs.get_queue_attributes(
        QueueUrl=stack.deployment.pool_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert int(depth["ApproximateNumberOfMessages"]) == 1

    # When a worker finally starts and takes it
    batch = boto3.client("batch", region_name=REGION)
    worker_id = batch.submit_job(
        jobName="pool-worker-manual",
        jobQueue=stack.deployment.pool_job_queue,
        jobDefinition=stack.deployment.ref("PoolWorkerJobDefinition"),
    )["jobId"]
    report = runner.wait_for(arn, timeout_s=300)

    # Then the file is transcribed, from its one message: no retry, no second message, no stale copy
    assert report.status == "SUCCEEDED", report.cause
    assert report.states.count("TranscribeInPool") == 1
    assert report.output is not None and report.output["job"]["job_id"] == worker_id
    done = stack.pool.reports[worker_id]
    assert (done.succeeded, done.stale_skipped) == (1, 0)
    assert transcript_versions(stack, "calls/late.wav") == 1
