"""How many pool workers to start now, and starting them.

Wanted workers = ceil(backlog / POOL_FILES_PER_WORKER), at most MAX_POOL_WORKERS, where the backlog
is every message not yet answered (waiting + held by workers) plus the one the caller is about to
send. Workers that exist in any state before they stop (SUBMITTED..RUNNING) count as started, so
a burst of calls never starts more than the backlog needs: the function runs with reserved
concurrency 1 (template.yaml), each call sees the jobs the previous one submitted. With an empty
backlog it starts nothing; idle workers exit by themselves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.models import PoolScaling
from contracts.settings import Settings

ACTIVE_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")


@dataclass(frozen=True)
class PoolConfig:
    queue_url: str
    job_queue: str
    job_definition: str
    max_workers: int
    files_per_worker: int
    heartbeat_s: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PoolConfig:
        settings = Settings.from_env(env)
        return cls(queue_url=env.get("POOL_QUEUE_URL", ""), job_queue=env.get("POOL_JOB_QUEUE", ""),
                   job_definition=env.get("POOL_JOB_DEFINITION", ""),
                   max_workers=settings.max_pool_workers, files_per_worker=settings.pool_files_per_worker,
                   heartbeat_s=settings.pool_task_heartbeat_s)


def wanted_workers(
    waiting: int, in_flight: int, incoming: int, max_workers: int, files_per_worker: int
) -> int:
    backlog = max(0, waiting) + max(0, in_flight) + max(0, incoming)
    return min(max_workers, math.ceil(backlog / files_per_worker))


def workers_to_start(wanted: int, active: int) -> int:
    return max(0, wanted - active)


def queue_depth(sqs: Any, queue_url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    waiting = int(attributes["ApproximateNumberOfMessages"])
    return waiting, int(attributes["ApproximateNumberOfMessagesNotVisible"])


def active_workers(batch: Any, job_queue: str) -> int:
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


def scale(sqs: Any, batch: Any, config: PoolConfig, incoming: int) -> PoolScaling:
    """Best effort: an AWS error is reported in ``error``, never raised (the schedule retries)."""
    waiting = in_flight = active = wanted = 0
    started: list[str] = []
    try:
        waiting, in_flight = queue_depth(sqs, config.queue_url)
        active = active_workers(batch, config.job_queue)
        wanted = wanted_workers(waiting, in_flight, incoming, config.max_workers, config.files_per_worker)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for number in range(workers_to_start(wanted, active)):
            job = batch.submit_job(jobName=f"pool-worker-{stamp}-{number}", jobQueue=config.job_queue,
                                   jobDefinition=config.job_definition)
            started.append(job["jobId"])
        error = None
    except Exception as exc:  # boto errors, a missing setting: report, let the file go on to the queue
        error = f"{type(exc).__name__}: {exc}"
    return PoolScaling(waiting=waiting, in_flight=in_flight, active_workers=active, wanted_workers=wanted,
                       started=started, heartbeat_s=config.heartbeat_s, error=error)
