"""Specifications of the worker pool for short files, executed by moto's Step Functions interpreter.

A short upload takes ChoosePath -> ScalePool -> TranscribeInPool: one PoolTask message on the pool
queue, answered through its task token by a pool worker (a Batch job the scaler started, running
here as a thread of the real gpu_job.pool_worker). The stack's timeouts are compressed (task
heartbeat 6 s, visibility 2 s, idle exit 3 s, the scaler's one-minute schedule every second) so that
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
from contracts.errors import BAD_INPUT_ERROR_NAMES

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
POOL_PATH = ["Claim", "IsClaimed", "Probe", "Plan", "ChoosePath", "ScalePool", "TranscribeInPool",
             "Postprocess", "Index"]


def _pool_stack(**overrides: str) -> Iterator[LocalStack]:
    # The model is loaded (and memoised) before the clock of any heartbeat starts: a worker's first
    # load in a fresh process includes NeMo's import, which is not what these specifications time.
    from gpu_job import api

    with _COMPUTE_LOCK, ANTLR.active("venv"):
        api.load_model(str(RANDOM_MODEL), "cpu")
    with local_stack(parameter_overrides={**POOL_PARAMETERS, **overrides}, model=str(RANDOM_MODEL),
                     pool_schedule_s=1.0) as local:
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
    listed = s3.list_object_versions(Bucket=stack.deployment.output_bucket,
                                     Prefix=f"transcripts/{key}/transcript.json")
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
        pool_stack)
    assert transcript_versions(pool_stack, "calls/short.wav") == 1


def test_a_burst_is_served_by_one_worker_with_one_model_load(pool_stack: LocalStack,
                                                             clips: dict[str, Path]) -> None:
    # Given six short uploads arriving together (fewer than PoolFilesPerWorker=10)
    s3 = boto3.client("s3", region_name=REGION)
    keys = [f"burst/call-{i}.wav" for i in range(6)]
    for key in keys:
        s3.upload_file(str(clips["short"]), pool_stack.deployment.input_bucket, key)
    arns = [runner.start_execution(pool_stack.deployment,
                                   runner.event_for_object(pool_stack.deployment.input_bucket, key))
            for key in keys]

    # When their executions finish
    reports = [runner.wait_for(arn, timeout_s=300) for arn in arns]

    # Then all were transcribed, by the one worker the backlog needed, which loaded the model once
    assert [r.status for r in reports] == ["SUCCEEDED"] * len(keys), [r.cause for r in reports]
    [worker] = worker_jobs(pool_stack)
    assert {r.output["job"]["job_id"] for r in reports if r.output} == {worker.job_id}
    done = pool_stack.pool.reports[worker.job_id]
    assert (done.model_loads, done.succeeded) == (1, len(keys))


def test_a_bad_file_in_the_pool_is_a_typed_bad_input_failure_never_retried(
        pool_stack: LocalStack, body_corrupt_flac: Path) -> None:
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
    event, report = runner.upload_and_run(pool_stack.deployment, str(clips["short"]), "calls/killed.wav",
                                          timeout_s=300)

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
        pool_stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given a file that kills every worker that tries it
    pool_stack.pool.faults.kill_workers_on("poison.wav", times=1000)

    # When it is uploaded
    # (waited for up to 600 s: a hang would leave the execution RUNNING, which the status below rejects)
    event, report = runner.upload_and_run(pool_stack.deployment, str(clips["short"]), "calls/poison.wav",
                                          timeout_s=600)

    # Then after its messages went to the dead-letter queue and every attempt timed out, the execution
    # failed with a typed reason instead of hanging
    assert report is not None and report.status == "FAILED"
    assert report.states[-4:] == ["PoolWorkerLost", "RecordFailure", "IsSuperseded", "Failed"]
    assert report.states.count("TranscribeInPool") == 1  # one state, its retries inside it
    row = catalog_row(pool_stack, event)
    assert row is not None
    assert (row["status"], row["reason"], row["reason_class"]) == ("FAILED", "pool.worker_lost", "internal")
    sqs = boto3.client("sqs", region_name=REGION)
    parked = sqs.get_queue_attributes(QueueUrl=pool_stack.deployment.pool_dead_letter_queue_url,
                                      AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert int(parked["ApproximateNumberOfMessages"]) >= 1
    # And each message killed at most maxReceiveCount (3) workers before it was parked
    attempts = 3  # the first try and MaxAttempts=2 retries
    assert pool_stack.pool.faults.kills <= 3 * attempts


def test_a_retried_attempt_and_its_stale_message_never_both_write(
        unscaled_pool_stack: LocalStack, clips: dict[str, Path]) -> None:
    stack = unscaled_pool_stack
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    # Given an upload whose first message nobody took within the task heartbeat, so that Step Functions
    # retried the task: the queue now holds the stale first message and the retry's message
    s3.upload_file(str(clips["short"]), stack.deployment.input_bucket, "calls/late.wav")
    arn = runner.start_execution(stack.deployment,
                                 runner.event_for_object(stack.deployment.input_bucket, "calls/late.wav"))
    deadline = time.monotonic() + 60
    while True:
        depth = sqs.get_queue_attributes(QueueUrl=stack.deployment.pool_queue_url,
                                         AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        if int(depth["ApproximateNumberOfMessages"]) == 2:
            break
        assert time.monotonic() < deadline, "the task was not retried"
        time.sleep(0.2)

    # When a worker starts and receives both
    batch = boto3.client("batch", region_name=REGION)
    [definition] = [lid for lid in stack.deployment.of_type("AWS::Batch::JobDefinition")
                    if lid == "PoolWorkerJobDefinition"]
    worker_id = batch.submit_job(jobName="pool-worker-manual", jobQueue=stack.deployment.pool_job_queue,
                                 jobDefinition=stack.deployment.ref(definition))["jobId"]
    report = runner.wait_for(arn, timeout_s=300)

    # Then the current attempt succeeded, the stale message was skipped, and the transcript was written once
    assert report.status == "SUCCEEDED", report.cause
    assert report.output is not None and report.output["job"]["job_id"] == worker_id
    done = stack.pool.reports[worker_id]
    assert (done.succeeded, done.stale_skipped) == (1, 1)
    assert transcript_versions(stack, "calls/late.wav") == 1
