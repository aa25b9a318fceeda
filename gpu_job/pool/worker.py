"""A long-running pool worker: one model load, then batches of short files from SQS until idle.

Per batch: receive up to ``batch_size`` messages (long polling), drop the ones whose token is no
longer current, transcribe the rest with the one loaded model, and for each file, in this order:
confirm its token is still current (the fence: a stale attempt writes nothing), write exactly what
the per-file job writes (``transcript.json``, or ``error.json`` for bad input) under the request's
output prefix, answer the token (``SendTaskSuccess`` with a JobResult naming this worker's Batch
job and the file's share of the GPU time, or ``SendTaskFailure`` with the typed error name), and
only then delete the message. A worker that dies at any point loses nothing: unanswered messages
become visible again. Messages received before (``ApproximateReceiveCount`` > 1) may be what killed
a worker: each is transcribed alone, after the others were answered, so it cannot take them down.
The worker exits after ``idle_exit_s`` without a message, which scales the pool to zero.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, cast

from pipeline.contracts import JobResult, PoolTask
from pipeline.settings import Settings
from pydantic import ValidationError

from gpu_job.outcome import error_document, write_outcome
from gpu_job.pool.answers import TaskAnswers
from gpu_job.pool.batch import BatchTranscriber, Outcome, transcribe_batch
from gpu_job.pool.heartbeat import Heartbeat

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_stepfunctions.client import SFNClient


log = logging.getLogger("gpu_job.pool")

MAX_LONG_POLL_S = 20  # SQS WaitTimeSeconds upper bound
LOCAL_JOB_ID = "local-pool-worker"  # outside Batch (no AWS_BATCH_JOB_ID)


@dataclass(frozen=True)
class WorkerConfig:
    queue_url: str
    job_id: str
    batch_size: int = 10
    idle_exit_s: float = 120.0
    visibility_s: int = 120
    heartbeat_interval_s: float = 30.0
    poll_s: int = MAX_LONG_POLL_S  # longest single receive wait (a stop request waits at most this)

    @classmethod
    def from_env(cls, env: Mapping[str, str], queue_url: str | None = None) -> WorkerConfig:
        """POOL_QUEUE_URL and AWS_BATCH_JOB_ID (set by Batch) plus the pool settings. Heartbeats go out
        several times per visibility timeout and per task heartbeat, so one late beat costs nothing."""
        settings = Settings.from_env(env)
        url = queue_url or env.get("POOL_QUEUE_URL", "")
        if not url:
            raise ValueError("POOL_QUEUE_URL is not set (the pool queue's URL, not its ARN)")
        interval = max(0.5, min(settings.pool_visibility_s / 3, settings.pool_task_heartbeat_s / 4))
        return cls(
            queue_url=url,
            job_id=env.get("AWS_BATCH_JOB_ID") or LOCAL_JOB_ID,
            batch_size=settings.pool_batch_size,
            idle_exit_s=settings.pool_idle_exit_s,
            visibility_s=settings.pool_visibility_s,
            heartbeat_interval_s=interval,
        )


@dataclass
class WorkerReport:
    """What one worker did; printed as one JSON line when it exits (and read by the demo/benchmark)."""

    job_id: str
    model_loads: int = 1
    model_load_s: float = 0.0
    files: int = 0
    succeeded: int = 0
    failed: int = 0
    stale_skipped: int = 0
    batches: int = 0
    gpu_seconds: float = 0.0
    exit_reason: str = ""

    def as_json(self) -> str:
        return json.dumps(asdict(self))


@dataclass(frozen=True)
class _Item:
    task: PoolTask
    receipt_handle: str
    receive_count: int


def split_gpu_seconds(wall_s: float, durations: Sequence[float | None]) -> list[float | None]:
    """Each transcribed file's share of its batch's wall time, by audio duration (the batched engine
    has no per-file times; duration is what the GPU work scales with). Failed files (None) get none:
    their time is carried by the files that were transcribed."""
    known = [d for d in durations if d is not None]
    total = sum(known)
    if not known:
        return [None for _ in durations]
    return [
        None if d is None else (wall_s * d / total if total > 0 else wall_s / len(known)) for d in durations
    ]


class PoolWorker:
    def __init__(
        self,
        config: WorkerConfig,
        model: Any,
        sqs: SQSClient,
        sfn: SFNClient,
        transcribe: BatchTranscriber = transcribe_batch,
        limits: Settings | None = None,
        clock: Callable[[], float] = time.monotonic,
        model_load_s: float = 0.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.config, self.model, self.sqs = config, model, sqs
        self.answers = TaskAnswers(sfn)
        self.transcribe, self.limits, self.clock = transcribe, limits, clock
        # Set on SIGTERM (Batch terminate, Spot interruption notice): finish the batch in hand, take no more.
        self.stop = stop or threading.Event()
        self.report = WorkerReport(job_id=config.job_id, model_load_s=round(model_load_s, 3))
        self.heartbeat = Heartbeat(
            self.answers, sqs, config.queue_url, config.heartbeat_interval_s, config.visibility_s
        )

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> WorkerReport:
        with self.heartbeat:
            last_message = self.clock()
            while True:
                idle_left = self.config.idle_exit_s - (self.clock() - last_message)
                if idle_left <= 0 or self.stop.is_set():
                    self.report.exit_reason = "stopped" if self.stop.is_set() else "idle"
                    break
                messages = self._receive(wait_s=min(self.config.poll_s, math.ceil(idle_left)))
                if messages:
                    self.handle(messages)
                    last_message = self.clock()
        log.info("pool worker exits: %s", self.report.as_json())
        return self.report

    def _receive(self, wait_s: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.config.queue_url,
            MaxNumberOfMessages=self.config.batch_size,
            WaitTimeSeconds=wait_s,
            VisibilityTimeout=self.config.visibility_s,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return cast(list[dict[str, Any]], response.get("Messages", []))

    def handle(self, messages: Sequence[dict[str, Any]]) -> None:
        items = [item for item in (self._admit(m) for m in messages) if item is not None]
        fresh = [i for i in items if i.receive_count <= 1]
        suspects = [i for i in items if i.receive_count > 1]
        for group in ([fresh] if fresh else []) + [[s] for s in suspects]:
            self._transcribe_group(group)

    # -- one message ---------------------------------------------------------------------------
    def _admit(self, message: dict[str, Any]) -> _Item | None:
        receipt = message["ReceiptHandle"]
        try:
            task = PoolTask.model_validate_json(message["Body"])
        except ValidationError as exc:
            # Not ours to answer (no valid token): log and drop, or it would circle until the DLQ anyway.
            log.error("dropping a message that is not a PoolTask: %s", exc)
            self._delete(receipt)
            return None
        try:
            current = self.answers.is_current(task.task_token)
        except Exception:  # throttled or unreachable: leave it; it is visible again after the timeout
            log.exception("could not check the token of %s; leaving the message", task.execution_arn)
            return None
        if not current:
            log.info("skipping a stale message (attempt %d of %s)", task.attempt, task.execution_arn)
            self.report.stale_skipped += 1
            self._delete(receipt)
            return None
        self.heartbeat.hold(task.task_token, receipt)
        count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
        return _Item(task, receipt, count)

    def _transcribe_group(self, group: Sequence[_Item]) -> None:
        started = self.clock()
        outcomes = self.transcribe([i.task.request for i in group], self.model, self.limits)
        wall_s = self.clock() - started
        self.report.batches += 1
        self.report.gpu_seconds += wall_s
        durations = [_duration(o) for o in outcomes]
        for item, outcome, share in zip(group, outcomes, split_gpu_seconds(wall_s, durations), strict=True):
            self._finish(item, outcome, share, len(group))

    def _finish(self, item: _Item, outcome: Outcome, share_s: float | None, batch_files: int) -> None:
        token, request = item.task.task_token, item.task.request
        try:
            if self.heartbeat.is_stale(token) or not self.answers.is_current(token):
                # A retry owns this file now: writing here could overwrite what the retry writes.
                self.report.stale_skipped += 1
                return
            self.report.files += 1
            # The per-file job's rule (gpu_job/outcome.py); a failure is answered by its error's name.
            written = write_outcome(
                request.output_prefix, request.source, outcome, request.redaction, request.redact_audio
            )
            if written.error is not None:
                self.answers.fail(token, written.error["error"], written.error)
                self.report.failed += 1
                return
            result = JobResult(
                job_id=self.config.job_id,
                status="SUCCEEDED",
                gpu_seconds=None if share_s is None else round(share_s, 3),
                batch_files=batch_files,
            )
            self.answers.succeed(token, result)
            self.report.succeeded += 1
        except Exception as exc:  # e.g. the output write failed: an internal failure of this file
            log.exception("could not finish %s", request.source.uri)
            self.answers.fail(token, type(exc).__name__, error_document(exc, request.source))
            self.report.failed += 1
        finally:
            self.heartbeat.release(token)
            self._delete(item.receipt_handle)

    def _delete(self, receipt_handle: str) -> None:
        self.sqs.delete_message(QueueUrl=self.config.queue_url, ReceiptHandle=receipt_handle)


def _duration(outcome: Outcome) -> float | None:
    if isinstance(outcome, BaseException):
        return None
    return float((outcome.get("media") or {}).get("duration_s") or 0.0)
