"""Specifications of the pool worker (gpu_job.pool.worker) against in-memory SQS and Step Functions.

The fakes keep what matters to the protocol: which tokens are current, what each call answered, and
the order of writes, answers and deletes. Transcription is a stub here (the real one runs in
tests/workflow/test_pool_workflow.py); outputs go to a local directory, as the per-file job's would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipeline.contracts import PoolTask, TranscriptionRequest
from pipeline.outcomes import CorruptMedia

from gpu_job.pool.worker import PoolWorker, WorkerConfig, split_gpu_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeSfn:
    """Tokens in ``current`` are answerable; any other one is answered TaskTimedOut, as on AWS."""

    def __init__(self, events: list[tuple[str, str]]) -> None:
        self.current: set[str] = set()
        self.events = events
        self.answers: dict[str, tuple[str, Any]] = {}

    def _check(self, token: str) -> None:
        if token not in self.current:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "timed out"}}, "SendTask")

    def send_task_heartbeat(self, taskToken: str) -> None:
        self._check(taskToken)

    def send_task_success(self, taskToken: str, output: str) -> None:
        self._check(taskToken)
        self.events.append(("answer", taskToken))
        self.answers[taskToken] = ("success", json.loads(output))
        self.current.discard(taskToken)

    def send_task_failure(self, taskToken: str, error: str, cause: str) -> None:
        self._check(taskToken)
        self.events.append(("answer", taskToken))
        self.answers[taskToken] = (error, json.loads(cause))
        self.current.discard(taskToken)


class FakeSqs:
    def __init__(self, clock: Clock, events: list[tuple[str, str]]) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.clock, self.events = clock, events
        self.deleted: list[str] = []

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        if self.batches:
            return {"Messages": self.batches.pop(0)}
        self.clock.now += kwargs["WaitTimeSeconds"]  # an empty long poll waits its full time
        return {}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.events.append(("delete", ReceiptHandle))
        self.deleted.append(ReceiptHandle)

    def change_message_visibility(self, **kwargs: Any) -> None:
        pass


def request(tmp_path: Path, name: str) -> TranscriptionRequest:
    return TranscriptionRequest.model_validate(
        {
            "source": {"bucket": "in", "key": name, "etag": "e", "uri": f"s3://in/{name}"},
            "output_prefix": str(tmp_path / "transcripts" / name),
            "mode": "full",
        }
    )


def message(tmp_path: Path, name: str, token: str, receive_count: int = 1) -> dict[str, Any]:
    task = PoolTask(
        task_token=token,
        request=request(tmp_path, name),
        execution_arn=f"arn:exec:{name}",
        enqueued_at="2026-01-01T00:00:00Z",
    )
    return {
        "Body": task.model_dump_json(),
        "ReceiptHandle": f"rh-{token}",
        "Attributes": {"ApproximateReceiveCount": str(receive_count)},
    }


def document(uri: str, duration_s: float) -> dict[str, Any]:
    return {"source": {"uri": uri}, "media": {"duration_s": duration_s}, "text": "hello"}


class StubTranscriber:
    """Documents of a given length per file name; a name in ``bad`` raises CorruptMedia."""

    def __init__(
        self, clock: Clock, seconds_per_batch: float = 2.0, bad: Sequence[str] = (), on_call: Any = None
    ) -> None:
        self.clock, self.seconds, self.bad, self.on_call = clock, seconds_per_batch, set(bad), on_call
        self.batches: list[list[str]] = []

    def __call__(self, requests: Sequence[TranscriptionRequest], model: Any, limits: Any) -> list[Any]:
        names = [r.source.key for r in requests]
        self.batches.append(names)
        if self.on_call:
            self.on_call(names)
        self.clock.now += self.seconds
        return [
            CorruptMedia("undecodable") if n in self.bad else document(r.source.uri, 3.0 if n == "a" else 1.0)
            for n, r in zip(names, requests, strict=True)
        ]


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    clock, events = Clock(), []
    return {"clock": clock, "events": events, "sqs": FakeSqs(clock, events), "sfn": FakeSfn(events)}


def worker(world: dict[str, Any], transcribe: Any, idle_exit_s: float = 5.0) -> PoolWorker:
    config = WorkerConfig(
        queue_url="https://sqs/pool", job_id="pool-job-1", idle_exit_s=idle_exit_s, heartbeat_interval_s=3600
    )
    return PoolWorker(
        config,
        model=object(),
        sqs=world["sqs"],
        sfn=world["sfn"],
        transcribe=transcribe,
        clock=world["clock"],
    )


def test_one_batch_is_transcribed_together_written_answered_then_deleted(
    world: dict[str, Any], tmp_path: Path
) -> None:
    # Given two queued files with current tokens
    world["sfn"].current |= {"t-a", "t-b"}
    world["sqs"].batches = [[message(tmp_path, "a", "t-a"), message(tmp_path, "b", "t-b")]]
    stub = StubTranscriber(world["clock"], seconds_per_batch=2.0)

    # When a worker serves the queue
    report = worker(world, stub).run()

    # Then both went through the model in one call, and each got the per-file job's transcript.json
    assert stub.batches == [["a", "b"]]
    for name in ("a", "b"):
        written = json.loads((tmp_path / "transcripts" / name / "transcript.json").read_text())
        assert written["text"] == "hello"
    # And each answer names this worker's job and the file's duration-weighted share of the batch's 2 s
    status, result = world["sfn"].answers["t-a"]
    assert (status, result["job_id"], result["status"], result["batch_files"]) == (
        "success",
        "pool-job-1",
        "SUCCEEDED",
        2,
    )
    assert result["gpu_seconds"] == pytest.approx(1.5)  # 3 s of the 4 s of audio
    assert world["sfn"].answers["t-b"][1]["gpu_seconds"] == pytest.approx(0.5)
    # And every message was deleted only after its answer
    assert world["events"] == [
        ("answer", "t-a"),
        ("delete", "rh-t-a"),
        ("answer", "t-b"),
        ("delete", "rh-t-b"),
    ]
    assert (report.succeeded, report.model_loads, report.batches) == (2, 1, 1)


def test_the_worker_exits_after_the_idle_period(world: dict[str, Any]) -> None:
    stub = StubTranscriber(world["clock"])

    report = worker(world, stub, idle_exit_s=45.0).run()

    assert report.exit_reason == "idle"
    assert world["clock"].now == pytest.approx(45.0)  # 20 s + 20 s + 5 s of empty long polls
    assert stub.batches == []


def test_a_stale_message_is_deleted_without_writing_or_answering(
    world: dict[str, Any], tmp_path: Path
) -> None:
    # Given a redelivered message whose attempt already timed out (a retry owns the file now)
    world["sqs"].batches = [[message(tmp_path, "old", "t-old", receive_count=2)]]
    stub = StubTranscriber(world["clock"])

    report = worker(world, stub).run()

    assert stub.batches == []
    assert not (tmp_path / "transcripts" / "old").exists()
    assert world["sfn"].answers == {}
    assert world["sqs"].deleted == ["rh-t-old"]
    assert report.stale_skipped == 1


def test_a_token_that_goes_stale_during_transcription_writes_nothing(
    world: dict[str, Any], tmp_path: Path
) -> None:
    # Given a file whose attempt times out while the worker is transcribing it
    world["sfn"].current |= {"t-slow"}
    world["sqs"].batches = [[message(tmp_path, "slow", "t-slow")]]
    stub = StubTranscriber(world["clock"], on_call=lambda names: world["sfn"].current.discard("t-slow"))

    report = worker(world, stub).run()

    # Then its transcript is not written (the retry will write it) and the message is gone
    assert stub.batches == [["slow"]]
    assert not (tmp_path / "transcripts" / "slow" / "transcript.json").exists()
    assert world["sfn"].answers == {}
    assert world["sqs"].deleted == ["rh-t-slow"]
    assert (report.stale_skipped, report.succeeded) == (1, 0)


def test_bad_input_is_answered_with_its_typed_name_and_error_json(
    world: dict[str, Any], tmp_path: Path
) -> None:
    world["sfn"].current |= {"t-good", "t-bad"}
    world["sqs"].batches = [[message(tmp_path, "good", "t-good"), message(tmp_path, "bad", "t-bad")]]

    report = worker(world, StubTranscriber(world["clock"], bad=["bad"])).run()

    # The bad file fails alone, with the name the ASL's Catch and record_failure classify as bad input
    error, cause = world["sfn"].answers["t-bad"]
    assert error == "CorruptMedia"
    # the per-file job's error document (gpu_job.outcome), naming the upload it is about
    assert cause == {
        "error": "CorruptMedia",
        "message": "undecodable",
        "input": "s3://in/bad",
        "etag": "e",
        "version_id": None,
    }
    assert json.loads((tmp_path / "transcripts" / "bad" / "error.json").read_text()) == cause
    # And its batch-mate succeeded, carrying the whole batch's time (the failed file gets no share)
    assert world["sfn"].answers["t-good"][0] == "success"
    assert world["sfn"].answers["t-good"][1]["gpu_seconds"] == pytest.approx(2.0)
    assert (report.succeeded, report.failed) == (1, 1)


def test_a_message_received_before_is_transcribed_alone_after_the_others(
    world: dict[str, Any], tmp_path: Path
) -> None:
    # Given a batch holding a message that was received before without an answer (it may kill workers)
    world["sfn"].current |= {"t-1", "t-suspect", "t-2"}
    world["sqs"].batches = [
        [
            message(tmp_path, "one", "t-1"),
            message(tmp_path, "suspect", "t-suspect", 3),
            message(tmp_path, "two", "t-2"),
        ]
    ]
    stub = StubTranscriber(world["clock"])

    worker(world, stub).run()

    # Then the others were transcribed (and answered) first, the suspect in a batch of its own
    assert stub.batches == [["one", "two"], ["suspect"]]
    answered = [token for kind, token in world["events"] if kind == "answer"]
    assert answered == ["t-1", "t-2", "t-suspect"]


def test_a_worker_killed_mid_batch_answers_and_deletes_nothing(world: dict[str, Any], tmp_path: Path) -> None:
    class Killed(BaseException):
        pass

    def die(names: list[str]) -> None:
        raise Killed

    world["sfn"].current |= {"t-a"}
    world["sqs"].batches = [[message(tmp_path, "a", "t-a")]]

    with pytest.raises(Killed):
        worker(world, StubTranscriber(world["clock"], on_call=die)).run()

    # The message stays in the queue (visible again after its timeout) with its token still current
    assert world["sqs"].deleted == [] and world["sfn"].answers == {}
    assert "t-a" in world["sfn"].current


def test_a_message_that_is_not_a_pool_task_is_dropped(world: dict[str, Any]) -> None:
    world["sqs"].batches = [[{"Body": "{}", "ReceiptHandle": "rh-junk", "Attributes": {}}]]
    stub = StubTranscriber(world["clock"])

    worker(world, stub).run()

    assert stub.batches == [] and world["sqs"].deleted == ["rh-junk"]


def test_gpu_seconds_are_split_by_duration_among_transcribed_files() -> None:
    assert split_gpu_seconds(10.0, [3.0, 1.0, None]) == [7.5, 2.5, None]
    assert split_gpu_seconds(4.0, [0.0, 0.0]) == [2.0, 2.0]
    assert split_gpu_seconds(4.0, [None]) == [None]


def test_the_config_comes_from_the_job_definition_environment() -> None:
    config = WorkerConfig.from_env(
        {
            "POOL_QUEUE_URL": "https://sqs/q",
            "AWS_BATCH_JOB_ID": "job-9",
            "POOL_VISIBILITY_S": "90",
            "POOL_TASK_HEARTBEAT_S": "600",
            "POOL_IDLE_EXIT_S": "30",
            "POOL_BATCH_SIZE": "5",
        }
    )
    assert (config.queue_url, config.job_id, config.batch_size, config.idle_exit_s) == (
        "https://sqs/q",
        "job-9",
        5,
        30.0,
    )
    # Several heartbeats per visibility timeout and per task heartbeat
    assert config.heartbeat_interval_s == pytest.approx(30.0)
    with pytest.raises(ValueError, match="POOL_QUEUE_URL"):
        WorkerConfig.from_env({})
