"""Specification of the pool scaler: start what the backlog needs, never more, never over the cap."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from scale_pool.scaler import ACTIVE_STATUSES, PoolConfig, scale, wanted_workers, workers_to_start

CONFIG = PoolConfig(queue_url="https://sqs/q", job_queue="arn:pool-queue", job_definition="arn:pool-def",
                    max_workers=4, files_per_worker=10, heartbeat_s=900)


class FakeSqs:
    def __init__(self, waiting: int, in_flight: int) -> None:
        self.attributes = {"ApproximateNumberOfMessages": str(waiting),
                           "ApproximateNumberOfMessagesNotVisible": str(in_flight)}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        return {"Attributes": self.attributes}


class FakeBatch:
    def __init__(self, jobs_by_status: dict[str, int]) -> None:
        self.jobs = {status: [f"{status}-{i}" for i in range(n)] for status, n in jobs_by_status.items()}
        self.submitted: list[dict[str, str]] = []

    def list_jobs(self, jobQueue: str, jobStatus: str, nextToken: str | None = None) -> dict[str, Any]:
        ids = self.jobs.get(jobStatus, [])
        page, rest = (ids[:1], ids[1:]) if nextToken is None else (ids[1:], [])
        return {"jobSummaryList": [{"jobId": i} for i in page], **({"nextToken": "more"} if rest else {})}

    def submit_job(self, **kwargs: str) -> dict[str, str]:
        self.submitted.append(kwargs)
        return {"jobId": f"new-{len(self.submitted)}"}


@pytest.mark.parametrize(("waiting", "in_flight", "incoming", "expected"), [
    (0, 0, 0, 0),      # nothing to do: no worker
    (0, 0, 1, 1),      # the file about to be enqueued needs one
    (9, 0, 1, 1),      # ten files: one worker's worth
    (10, 0, 1, 2),     # eleven: a second worker pays off
    (25, 10, 0, 4),    # in-flight messages still need their workers
    (1000, 0, 1, 4),   # never over MaxPoolWorkers
])
def test_wanted_workers_is_the_backlog_need_bounded_by_the_cap(
        waiting: int, in_flight: int, incoming: int, expected: int) -> None:
    assert wanted_workers(waiting, in_flight, incoming, max_workers=4, files_per_worker=10) == expected


def test_a_cap_of_zero_turns_scaling_off() -> None:
    assert wanted_workers(500, 0, 1, max_workers=0, files_per_worker=10) == 0


def test_workers_already_there_are_not_started_again() -> None:
    assert workers_to_start(wanted=3, active=1) == 2
    assert workers_to_start(wanted=1, active=3) == 0  # idle ones exit by themselves, none is stopped here


def test_scale_submits_only_the_difference_counting_every_live_status() -> None:
    # Given 35 unanswered messages (4 workers wanted) and one worker in each of two live states
    batch = FakeBatch({"RUNNABLE": 1, "RUNNING": 1, "SUCCEEDED": 5})
    result = scale(FakeSqs(waiting=30, in_flight=5), batch, CONFIG, incoming=0)

    # Then two more are submitted, on the pool queue with the pool job definition
    assert (result.wanted_workers, result.active_workers) == (4, 2)
    assert result.started == ["new-1", "new-2"]
    placed = {(s["jobQueue"], s["jobDefinition"]) for s in batch.submitted}
    assert placed == {("arn:pool-queue", "arn:pool-def")}
    assert result.heartbeat_s == 900 and result.error is None
    assert set(ACTIVE_STATUSES) == {"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"}


def test_list_jobs_pages_are_all_counted() -> None:
    batch = FakeBatch({"RUNNING": 3})
    assert scale(FakeSqs(0, 0), batch, CONFIG, incoming=1).active_workers == 3


def test_an_aws_error_is_reported_not_raised() -> None:
    class BrokenBatch(FakeBatch):
        def list_jobs(self, **kwargs: Any) -> dict[str, Any]:
            error = {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}
            raise ClientError(error, "ListJobs")

    result = scale(FakeSqs(3, 0), BrokenBatch({}), CONFIG, incoming=1)

    assert result.started == [] and result.error is not None and "TooManyRequests" in result.error
    assert result.heartbeat_s == 900  # the task still gets its heartbeat, and the file its message


def test_config_comes_from_the_template_environment() -> None:
    config = PoolConfig.from_env({"POOL_QUEUE_URL": "u", "POOL_JOB_QUEUE": "q", "POOL_JOB_DEFINITION": "d",
                                  "MAX_POOL_WORKERS": "7", "POOL_FILES_PER_WORKER": "20",
                                  "POOL_TASK_HEARTBEAT_S": "300"})
    assert config == PoolConfig("u", "q", "d", 7, 20, 300)
