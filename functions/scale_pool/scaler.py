"""How many pool workers to start now, and starting them.

Wanted workers = ceil(backlog / POOL_FILES_PER_WORKER), at most MAX_POOL_WORKERS, where the backlog
is every message not yet answered (waiting + held by workers) plus the one the caller is about to
send. Workers that exist in any state before they stop (SUBMITTED..RUNNING) count as started, so
a burst of calls never starts more than the backlog needs: one call at a time holds the scaler lease
(scale_pool.lease) and sees the jobs the previous holder submitted; a call that finds it held skips.
With an empty backlog it starts nothing; idle workers exit by themselves.

The schedule's calls also measure how long the oldest job of any queue has waited RUNNABLE (metric
OldestRunnableJobSeconds, alarmed in template.yaml before the queue cancels it as CapacityUnavailable).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.contracts import PoolScaling
from pipeline.settings import Settings

from scale_pool import lease

if TYPE_CHECKING:
    from mypy_boto3_batch.client import BatchClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sqs.client import SQSClient


ACTIVE_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")


@dataclass(frozen=True)
class PoolConfig:
    queue_url: str
    job_queue: str
    job_definition: str
    max_workers: int
    files_per_worker: int
    watched_queues: tuple[str, ...] = ()  # every job queue whose RUNNABLE wait is measured
    dead_letter_queue_url: str = ""  # the pool's DLQ (scale_pool.dead_letters)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PoolConfig:
        settings = Settings.from_env(env)
        job_queue = env.get("POOL_JOB_QUEUE", "")
        class_queues = sorted(value for name, value in env.items() if name.startswith("JOB_QUEUE_") and value)
        return cls(
            queue_url=env.get("POOL_QUEUE_URL", ""),
            job_queue=job_queue,
            job_definition=env.get("POOL_JOB_DEFINITION", ""),
            max_workers=settings.max_pool_workers,
            files_per_worker=settings.pool_files_per_worker,
            watched_queues=tuple(q for q in (job_queue, *class_queues) if q),
            dead_letter_queue_url=env.get("POOL_DEAD_LETTER_QUEUE_URL", ""),
        )


def wanted_workers(
    waiting: int, in_flight: int, incoming: int, max_workers: int, files_per_worker: int
) -> int:
    backlog = max(0, waiting) + max(0, in_flight) + max(0, incoming)
    return min(max_workers, math.ceil(backlog / files_per_worker))


def workers_to_start(wanted: int, active: int) -> int:
    return max(0, wanted - active)


def queue_depth(sqs: SQSClient, queue_url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    waiting = int(attributes["ApproximateNumberOfMessages"])
    return waiting, int(attributes["ApproximateNumberOfMessagesNotVisible"])


def active_workers(batch: BatchClient, job_queue: str) -> int:
    job_ids: set[str] = set()
    for status in ACTIVE_STATUSES:
        kwargs: dict[str, Any] = {"jobQueue": job_queue, "jobStatus": status}
        while True:
            page = batch.list_jobs(**kwargs)
            job_ids.update(job["jobId"] for job in page.get("jobSummaryList", []))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return len(job_ids)


def oldest_runnable_s(batch: BatchClient, job_queues: tuple[str, ...], now_ms: int) -> float:
    """Seconds the oldest RUNNABLE job of these queues has waited (0 when none waits)."""
    oldest = now_ms
    for job_queue in job_queues:
        kwargs: dict[str, Any] = {"jobQueue": job_queue, "jobStatus": "RUNNABLE"}
        while True:
            page = batch.list_jobs(**kwargs)
            created = [int(j["createdAt"]) for j in page.get("jobSummaryList", []) if "createdAt" in j]
            oldest = min([oldest, *created])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return max(0.0, (now_ms - oldest) / 1000)


def scale(sqs: SQSClient, batch: BatchClient, config: PoolConfig, incoming: int) -> PoolScaling:
    """Best effort: an AWS error is reported in ``error``, never raised (the schedule retries)."""
    waiting = in_flight = active = wanted = 0
    started: list[str] = []
    try:
        waiting, in_flight = queue_depth(sqs, config.queue_url)
        active = active_workers(batch, config.job_queue)
        wanted = wanted_workers(waiting, in_flight, incoming, config.max_workers, config.files_per_worker)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for number in range(workers_to_start(wanted, active)):
            job = batch.submit_job(
                jobName=f"pool-worker-{stamp}-{number}",
                jobQueue=config.job_queue,
                jobDefinition=config.job_definition,
            )
            started.append(job["jobId"])
        error = None
    except Exception as exc:  # boto errors, a missing setting: report, let the file go on to the queue
        error = f"{type(exc).__name__}: {exc}"
    return PoolScaling(
        waiting=waiting,
        in_flight=in_flight,
        active_workers=active,
        wanted_workers=wanted,
        started=started,
        error=error,
    )


def scale_exclusively(
    sqs: SQSClient,
    batch: BatchClient,
    table: Table,
    config: PoolConfig,
    incoming: int,
    holder: str,
    now_s: float,
    until_s: float,
) -> PoolScaling:
    """:func:`scale` under the scaler lease (scale_pool.lease); skipped when another call holds it."""
    try:
        held = lease.acquire(table, holder, now_s, until_s)
    except Exception as exc:  # best effort, as scale(): the schedule tries again
        return PoolScaling(
            waiting=0,
            in_flight=0,
            active_workers=0,
            wanted_workers=0,
            started=[],
            error=f"lease: {type(exc).__name__}: {exc}",
        )
    if not held:
        return PoolScaling(
            waiting=0, in_flight=0, active_workers=0, wanted_workers=0, started=[], skipped=True
        )
    try:
        return scale(sqs, batch, config, incoming)
    finally:
        with contextlib.suppress(Exception):  # an unreleased lease lapses at until_s
            lease.release(table, holder)
