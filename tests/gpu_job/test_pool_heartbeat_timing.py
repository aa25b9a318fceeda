"""Specifications of the pool worker's time-dependent behaviour: leases, task heartbeats, the idle exit.

Time here is fake seconds that only the test moves (``Clock``). The SQS fake keeps SQS's visibility
rules in those seconds (a received message is hidden until its lease ends; ChangeMessageVisibility
extends a lease that has not ended yet; a lapsed lease makes the message receivable again, by anyone),
and the Step Functions fake keeps the task's HeartbeatSeconds (a token not heard from for that long has
timed out and is answered TaskTimedOut from then on). The worker's heartbeat thread is the real one, at
a short real interval; the test does not sleep to meet it: the slow batch waits, after each step of fake
time, until the thread has completed two rounds (so at least one round began after the step), which is
what the production interval (a third of the visibility timeout, a quarter of the task heartbeat)
guarantees within each step. A round is counted by wrapping the instance's ``beat_once``, whatever the
round does, so removing what a round does fails an assertion here instead of a wait.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipeline.contracts import TranscriptionRequest

from gpu_job.pool.heartbeat import Heartbeat
from gpu_job.pool.worker import MAX_LONG_POLL_S, PoolWorker, WorkerConfig
from tests.gpu_job.test_pool_worker import document, message

QUEUE_URL = "https://sqs/pool"
VISIBILITY_S = 10  # the worker's lease per message, in fake seconds
TASK_HEARTBEAT_S = 15  # the task's HeartbeatSeconds, in fake seconds
STEP_S = 4.0  # fake seconds between two heartbeat rounds (< both timeouts)
REAL_INTERVAL_S = 0.005  # the heartbeat thread's real interval
ROUND_WAIT_S = 30.0  # only reached if the heartbeat thread does not run at all


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Fake")


@dataclass
class _Message:
    id: str
    body: str
    visible_at: float = 0.0
    receives: int = 0
    deleted: bool = False


class LeasingSqs:
    """One queue with SQS's visibility rules in fake seconds. Gives up (fails the test) after
    ``give_up_after`` empty polls: a worker that never exits fails instead of hanging."""

    def __init__(self, clock: Clock, give_up_after: int = 200) -> None:
        self.clock, self.give_up_after = clock, give_up_after
        self.messages: dict[str, _Message] = {}
        self.extensions: Counter[str] = Counter()
        self.empty_polls = 0
        self._lock = threading.Lock()

    def send(self, message_id: str, body: str, delay_s: float = 0.0, received_before: int = 0) -> None:
        self.messages[message_id] = _Message(
            message_id, body, visible_at=self.clock() + delay_s, receives=received_before
        )

    def receive_message(
        self,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        WaitTimeSeconds: int = 0,
        VisibilityTimeout: int = 30,
        **_: Any,
    ) -> dict[str, Any]:
        assert 0 <= WaitTimeSeconds <= MAX_LONG_POLL_S, f"SQS rejects WaitTimeSeconds={WaitTimeSeconds}"
        with self._lock:
            now = self.clock()
            ready = [m for m in self.messages.values() if not m.deleted and m.visible_at <= now]
            ready = ready[:MaxNumberOfMessages]
            for m in ready:
                m.receives += 1
                m.visible_at = now + VisibilityTimeout
        if not ready:  # an empty long poll waits its whole time
            self.empty_polls += 1
            assert self.empty_polls <= self.give_up_after, "the worker kept polling an empty queue"
            self.clock.advance(WaitTimeSeconds)
        return {
            "Messages": [
                {
                    "MessageId": m.id,
                    "Body": m.body,
                    "ReceiptHandle": f"{m.id}#{m.receives}",
                    "Attributes": {"ApproximateReceiveCount": str(m.receives)},
                }
                for m in ready
            ]
        }

    def _current(self, receipt_handle: str) -> _Message:
        message_id, _, receive = receipt_handle.partition("#")
        m = self.messages.get(message_id)
        if m is None or m.deleted or str(m.receives) != receive:
            raise _client_error("ReceiptHandleIsInvalid")
        return m

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:
        with self._lock:
            m = self._current(ReceiptHandle)
            if m.visible_at <= self.clock():  # the lease already ended: too late to extend it
                raise _client_error("MessageNotInflight")
            m.visible_at = self.clock() + VisibilityTimeout
            self.extensions[m.id] += 1

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        """As on SQS, an older receipt handle of a message received again "succeeds" but deletes nothing."""
        with self._lock:
            try:
                self._current(ReceiptHandle).deleted = True
            except ClientError:
                if ReceiptHandle.partition("#")[0] not in self.messages:
                    raise


class HeartbeatTimeoutSfn:
    """Task tokens that time out after ``heartbeat_s`` fake seconds without SendTaskHeartbeat."""

    def __init__(self, clock: Clock, heartbeat_s: float) -> None:
        self.clock, self.heartbeat_s = clock, heartbeat_s
        self.last_heard: dict[str, float] = {}
        self.heartbeats: Counter[str] = Counter()  # accepted ones
        self.heartbeat_calls: Counter[str] = Counter()  # any, accepted or not
        self.answers: dict[str, str] = {}
        self._lock = threading.Lock()

    def wait_for_task(self, token: str) -> None:
        self.last_heard[token] = self.clock()

    def _alive(self, token: str) -> None:
        heard = self.last_heard.get(token)
        if heard is None or self.clock() - heard > self.heartbeat_s:
            self.last_heard.pop(token, None)  # timed out (or answered): never current again
            raise _client_error("TaskTimedOut")

    def send_task_heartbeat(self, taskToken: str) -> None:
        with self._lock:
            self.heartbeat_calls[taskToken] += 1
            self._alive(taskToken)
            self.last_heard[taskToken] = self.clock()
            self.heartbeats[taskToken] += 1

    def _answer(self, token: str, answer: str) -> None:
        with self._lock:
            self._alive(token)
            del self.last_heard[token]
            self.answers[token] = answer

    def send_task_success(self, taskToken: str, output: str) -> None:
        self._answer(taskToken, "success")

    def send_task_failure(self, taskToken: str, error: str, cause: str) -> None:
        self._answer(taskToken, error)


class Rounds:
    """Counts the heartbeat thread's completed rounds (see the module docstring)."""

    def __init__(self, heartbeat: Heartbeat) -> None:
        self.count = 0
        self._changed = threading.Condition()
        beat_once = heartbeat.beat_once

        def counted() -> None:
            beat_once()
            with self._changed:
                self.count += 1
                self._changed.notify_all()

        heartbeat.beat_once = counted  # type: ignore[method-assign]

    def wait(self, rounds: int) -> None:
        with self._changed:
            target = self.count + rounds
            assert self._changed.wait_for(lambda: self.count >= target, ROUND_WAIT_S), "no heartbeat round"


class WorkerKilled(BaseException):
    """The worker process dies (a Spot reclaim): nothing after this point runs."""


class SlowBatch:
    """Each call takes ``steps`` x STEP_S fake seconds; after every step another worker polls the queue.
    With ``killed_after`` the worker dies after that many steps of its first batch."""

    def __init__(self, clock: Clock, sqs: LeasingSqs, steps: int, killed_after: int | None = None) -> None:
        self.clock, self.sqs, self.steps, self.killed_after = clock, sqs, steps, killed_after
        self.rounds: Rounds | None = None
        self.batches: list[list[str]] = []
        self.seen_by_another_worker: list[str] = []
        self.held_during_batch: list[tuple[Counter[str], Counter[str]]] = []

    def __call__(self, requests: Sequence[TranscriptionRequest], model: Any, limits: Any) -> list[Any]:
        assert self.rounds is not None
        self.batches.append([r.source.key for r in requests])
        for step in range(self.steps):
            if step == self.killed_after:
                raise WorkerKilled
            self.clock.advance(STEP_S)
            self.rounds.wait(2)
            other = self.sqs.receive_message(
                QueueUrl=QUEUE_URL, MaxNumberOfMessages=10, VisibilityTimeout=VISIBILITY_S
            )
            self.seen_by_another_worker += [m["MessageId"] for m in other["Messages"]]
        return [document(r.source.uri, 1.0) for r in requests]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def serve(
    clock: Clock, sqs: LeasingSqs, sfn: HeartbeatTimeoutSfn, batch: SlowBatch | Any, idle_exit_s: float = 30.0
) -> PoolWorker:
    config = WorkerConfig(
        queue_url=QUEUE_URL,
        job_id="pool-job-1",
        idle_exit_s=idle_exit_s,
        visibility_s=VISIBILITY_S,
        heartbeat_interval_s=REAL_INTERVAL_S,
    )
    worker = PoolWorker(config, model=object(), sqs=sqs, sfn=sfn, transcribe=batch, clock=clock)
    if isinstance(batch, SlowBatch):
        batch.rounds = Rounds(worker.heartbeat)
    worker.run()
    return worker


def enqueue(
    tmp_path: Path,
    sqs: LeasingSqs,
    sfn: HeartbeatTimeoutSfn,
    names: Sequence[str],
    received_before: Sequence[str] = (),
) -> None:
    for name in names:
        sfn.wait_for_task(f"t-{name}")
        sqs.send(
            name,
            message(tmp_path, name, f"t-{name}")["Body"],
            received_before=1 if name in received_before else 0,
        )


def test_a_batch_longer_than_both_timeouts_keeps_every_held_message_leased_and_its_token_alive(
    clock: Clock, tmp_path: Path
) -> None:
    sqs, sfn = LeasingSqs(clock), HeartbeatTimeoutSfn(clock, TASK_HEARTBEAT_S)
    # Given three files in the queue, one of which a worker received before (it waits for its own batch)
    enqueue(tmp_path, sqs, sfn, ["a", "b", "suspect"], received_before=["suspect"])
    # And a model that takes 40 fake seconds per batch: four visibility timeouts, over two task heartbeats
    batch = SlowBatch(clock, sqs, steps=10)
    assert batch.steps * STEP_S > 2 * max(VISIBILITY_S, TASK_HEARTBEAT_S)

    # When one worker serves the queue while another polls it
    serve(clock, sqs, sfn, batch)

    # Then the worker took all three and transcribed the suspect alone, after the others
    assert batch.batches == [["a", "b"], ["suspect"]]
    # And no other worker ever received a message this one held: each was received once by this worker
    assert batch.seen_by_another_worker == []
    assert {m.id: m.receives for m in sqs.messages.values()} == {"a": 1, "b": 1, "suspect": 2}
    # And every held message's lease was extended, and its token heartbeated, at least once per step
    # of every batch it waited through (the suspect waited through both)
    assert min(sqs.extensions[n] for n in ("a", "b")) >= batch.steps
    assert sqs.extensions["suspect"] >= 2 * batch.steps
    assert min(sfn.heartbeats[f"t-{n}"] for n in ("a", "b")) >= batch.steps
    assert sfn.heartbeats["t-suspect"] >= 2 * batch.steps
    # And so every token was still current when the worker answered it, and every message was deleted
    assert sfn.answers == {"t-a": "success", "t-b": "success", "t-suspect": "success"}
    assert all(m.deleted for m in sqs.messages.values())
    for name in ("a", "b", "suspect"):
        assert (tmp_path / "transcripts" / name / "transcript.json").exists()


def test_a_worker_that_dies_mid_batch_lets_its_messages_go_while_their_tokens_are_current(
    clock: Clock, tmp_path: Path
) -> None:
    sqs, sfn = LeasingSqs(clock), HeartbeatTimeoutSfn(clock, TASK_HEARTBEAT_S)
    # Given a worker that dies two steps into a batch of two files
    enqueue(tmp_path, sqs, sfn, ["a", "b"])
    batch = SlowBatch(clock, sqs, steps=10, killed_after=2)
    with pytest.raises(WorkerKilled):
        serve(clock, sqs, sfn, batch)

    # Then its heartbeat died with it (nothing keeps the messages hidden any more)
    assert not [t for t in threading.enumerate() if t.name == "pool-heartbeat" and t.is_alive()]
    assert sfn.answers == {} and not any(m.deleted for m in sqs.messages.values())
    # And once the visibility timeout has passed, another worker receives both ...
    clock.advance(VISIBILITY_S)
    other = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10, VisibilityTimeout=VISIBILITY_S)
    assert sorted(m["MessageId"] for m in other["Messages"]) == ["a", "b"]
    # ... while their tokens are still current (the visibility timeout is shorter than the task heartbeat)
    for token in ("t-a", "t-b"):
        sfn.send_task_heartbeat(taskToken=token)


def test_answered_messages_are_no_longer_kept_alive(clock: Clock, tmp_path: Path) -> None:
    sqs, sfn = LeasingSqs(clock), HeartbeatTimeoutSfn(clock, TASK_HEARTBEAT_S)
    # Given a file that is answered after one slow batch
    enqueue(tmp_path, sqs, sfn, ["first"])
    first = SlowBatch(clock, sqs, steps=3)
    worker = serve(clock, sqs, sfn, first)
    extended, heartbeats = sqs.extensions["first"], sfn.heartbeat_calls["t-first"]
    assert sfn.answers == {"t-first": "success"} and extended >= first.steps

    # When the heartbeat beats again afterwards
    for _ in range(3):
        worker.heartbeat.beat_once()

    # Then neither the deleted message nor the answered token is touched again
    assert (sqs.extensions["first"], sfn.heartbeat_calls["t-first"]) == (extended, heartbeats)


def test_an_idle_worker_exits_idle_exit_s_after_its_last_message_and_not_before(
    clock: Clock, tmp_path: Path
) -> None:
    sqs, sfn = LeasingSqs(clock), HeartbeatTimeoutSfn(clock, heartbeat_s=600)
    # Given a worker with a 45 s idle exit, and a file that arrives 30 s after it started
    sfn.wait_for_task("t-late")
    sqs.send("late", message(tmp_path, "late", "t-late")["Body"], delay_s=30)
    finished_at: list[float] = []

    def transcribe(requests: Sequence[TranscriptionRequest], model: Any, limits: Any) -> list[Any]:
        clock.advance(2.0)
        finished_at.append(clock())
        return [document(r.source.uri, 1.0) for r in requests]

    # When it serves the queue
    worker = serve(clock, sqs, sfn, transcribe, idle_exit_s=45.0)

    # Then it waited for the late file (its idle period had not run out), transcribed it, and exited
    # only after a whole idle period without a message (counted from that batch, not from its start)
    assert sfn.answers == {"t-late": "success"}
    assert worker.report.exit_reason == "idle"
    [done] = finished_at
    assert clock() >= done + 45.0
    # And it did not poll much longer than that: one long poll at most past the idle exit
    assert clock() < done + 45.0 + worker.config.poll_s
