"""While a worker holds messages, a thread keeps each one alive on both sides.

Every interval it sends ``SendTaskHeartbeat`` for each held token (the check that its execution still
waits: TranscribeInPool has no heartbeat clock, which would include the file's time in the queue) and
extends the message's SQS visibility (so no other worker receives it meanwhile): the liveness of a
file starts when a worker takes it. If the worker dies, both stop: the messages are visible again
after at most the visibility timeout, while their tokens are still valid, and another worker picks
them up; a message that killed maxReceiveCount workers is parked in the dead-letter queue, whose
tokens the scaler fails as pool.worker_lost (scale_pool.dead_letters).
A heartbeat that reports the token stale marks it, and the worker then writes nothing for it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from gpu_job.pool.answers import TaskAnswers

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


log = logging.getLogger("gpu_job.pool")


@dataclass
class _Held:
    receipt_handle: str
    stale: bool = False


class Heartbeat:
    def __init__(
        self, answers: TaskAnswers, sqs: SQSClient, queue_url: str, interval_s: float, visibility_s: int
    ) -> None:
        self._answers, self._sqs, self._queue_url = answers, sqs, queue_url
        self._interval_s, self._visibility_s = interval_s, visibility_s
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pool-heartbeat", daemon=True)
        self.beats = 0

    def hold(self, token: str, receipt_handle: str) -> None:
        with self._lock:
            self._held[token] = _Held(receipt_handle)

    def release(self, token: str) -> None:
        with self._lock:
            self._held.pop(token, None)

    def is_stale(self, token: str) -> bool:
        with self._lock:
            held = self._held.get(token)
            return held is not None and held.stale

    def beat_once(self) -> None:
        with self._lock:
            held = list(self._held.items())
        for token, item in held:
            try:
                if not self._answers.is_current(token):
                    item.stale = True
                    continue
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=item.receipt_handle,
                    VisibilityTimeout=self._visibility_s,
                )
                self.beats += 1
            except Exception:  # a missed beat is retried next interval; the timeouts leave slack for it
                log.exception("heartbeat failed")

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.beat_once()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval_s + 5)
