"""Specification of the pool scaler: start what the backlog needs, never more, never over the cap."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from scale_pool import lease
from scale_pool.scaler import (
    ACTIVE_STATUSES,
    PoolConfig,
    oldest_runnable_s,
    scale,
    scale_exclusively,
    wanted_workers,
    workers_to_start,
)

CONFIG = PoolConfig(
    queue_url="https://sqs/q",
    job_queue="arn:pool-queue",
    job_definition="arn:pool-def",
    max_workers=4,
    files_per_worker=10,
)


class FakeSqs:
    def __init__(self, waiting: int, in_flight: int) -> None:
        self.attributes = {
            "ApproximateNumberOfMessages": str(waiting),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
        }

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


@pytest.mark.parametrize(
    ("waiting", "in_flight", "incoming", "expected"),
    [
        (0, 0, 0, 0),  # nothing to do: no worker
        (0, 0, 1, 1),  # the file about to be enqueued needs one
        (9, 0, 1, 1),  # ten files: one worker's worth
        (10, 0, 1, 2),  # eleven: a second worker pays off
        (25, 10, 0, 4),  # in-flight messages still need their workers
        (1000, 0, 1, 4),  # never over MaxPoolWorkers
    ],
)
def test_wanted_workers_is_the_backlog_need_bounded_by_the_cap(
    waiting: int, in_flight: int, incoming: int, expected: int
) -> None:
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
    assert result.error is None
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


def test_config_comes_from_the_template_environment() -> None:
    config = PoolConfig.from_env(
        {
            "POOL_QUEUE_URL": "u",
            "POOL_JOB_QUEUE": "q",
            "POOL_JOB_DEFINITION": "d",
            "MAX_POOL_WORKERS": "7",
            "POOL_FILES_PER_WORKER": "20",
            "POOL_TASK_HEARTBEAT_S": "300",
        }
    )
    assert config == PoolConfig("u", "q", "d", 7, 20, watched_queues=("q",))


def test_every_job_queue_of_the_environment_is_watched_for_runnable_waits() -> None:
    config = PoolConfig.from_env({"POOL_JOB_QUEUE": "pool", "JOB_QUEUE_SMALL": "s", "JOB_QUEUE_LARGE": "l"})
    assert config.watched_queues == ("pool", "l", "s")


def test_the_oldest_runnable_job_is_measured_across_queues_and_pages() -> None:
    # Given RUNNABLE jobs created 30 s and 600 s before now, on two queues, the older on a second page
    now_ms = 1_000_000_000

    pages = {
        ("a", None): {"jobSummaryList": [{"jobId": "1", "createdAt": now_ms - 30_000}], "nextToken": "t"},
        ("a", "t"): {"jobSummaryList": [{"jobId": "2", "createdAt": now_ms - 600_000}]},
        ("b", None): {"jobSummaryList": []},
    }

    class RunnableBatch:
        def list_jobs(self, jobQueue: str, jobStatus: str, nextToken: str | None = None) -> dict[str, Any]:
            assert jobStatus == "RUNNABLE"
            return pages[(jobQueue, nextToken)]

    # Then the wait reported is the oldest one's; with none waiting it is 0
    assert oldest_runnable_s(RunnableBatch(), ("a", "b"), now_ms) == 600.0
    assert oldest_runnable_s(RunnableBatch(), ("b",), now_ms) == 0.0


# ---------------------------------------------------------------- one writer without reserved concurrency
@pytest.fixture
def lease_table() -> Any:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        yield dynamodb.create_table(
            TableName="lease",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "lease", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "lease", "KeyType": "HASH"}],
        )


def test_while_one_call_holds_the_lease_a_concurrent_call_skips_and_starts_nothing(lease_table: Any) -> None:
    # Given one call holding the lease (it is scaling now)
    assert lease.acquire(lease_table, "call-1", now_s=100, until_s=160)
    batch = FakeBatch({})

    # When a second call arrives meanwhile, with a backlog that would want workers
    result = scale_exclusively(
        FakeSqs(30, 0), batch, lease_table, CONFIG, 1, "call-2", now_s=101, until_s=161
    )

    # Then it skips: nothing submitted, no error (the holder or the schedule scales)
    assert result.skipped and result.error is None and batch.submitted == []


def test_a_call_releases_the_lease_so_the_next_one_counts_its_workers(lease_table: Any) -> None:
    # Given a first call that scales for 35 messages (4 wanted) with no worker yet
    batch = FakeBatch({})
    first = scale_exclusively(FakeSqs(35, 0), batch, lease_table, CONFIG, 0, "call-1", now_s=100, until_s=160)
    assert len(first.started) == 4 and not first.skipped
    # When the next call runs (the lease is free again) and sees the 4 workers it submitted
    batch.jobs["SUBMITTED"] = [s["jobName"] for s in batch.submitted]
    second = scale_exclusively(
        FakeSqs(35, 0), batch, lease_table, CONFIG, 1, "call-2", now_s=101, until_s=161
    )
    # Then it starts none: sequential calls never over-provision
    assert not second.skipped and second.started == [] and second.active_workers == 4


def test_a_lease_whose_holder_died_lapses_at_its_deadline(lease_table: Any) -> None:
    # Given a holder that never released (its invocation died) with a deadline at 160
    assert lease.acquire(lease_table, "dead", now_s=100, until_s=160)
    # Then before the deadline nobody else takes it, after it the next call does
    assert not lease.acquire(lease_table, "call-2", now_s=150, until_s=210)
    assert lease.acquire(lease_table, "call-3", now_s=162, until_s=222)
    # And the dead holder's late release cannot free the new holder's lease
    lease.release(lease_table, "dead")
    assert not lease.acquire(lease_table, "call-4", now_s=163, until_s=223)


def test_a_lease_error_is_reported_not_raised() -> None:
    class BrokenTable:
        def put_item(self, **kwargs: Any) -> None:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}
            raise ClientError(error, "PutItem")

    result = scale_exclusively(FakeSqs(3, 0), FakeBatch({}), BrokenTable(), CONFIG, 1, "c", 0, 60)
    assert result.error is not None and "ProvisionedThroughput" in result.error and result.started == []
