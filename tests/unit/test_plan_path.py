"""Specification of the planner's path rule: short files to the pool, long ones to their own job."""

from __future__ import annotations

import pytest
from pipeline.contracts import TranscriptionRequest
from pipeline.settings import Settings
from plan_job.path import transcribe_path

from tests.unit.test_plan_job import SOURCE, plan_for


@pytest.mark.parametrize(
    ("duration_s", "expected"),
    [
        (5.0, "pool"),
        (180.0, "pool"),
        (600.0, "pool"),  # inclusive upper bound
        (600.5, "job"),
        (3600.0, "job"),
        (None, "job"),  # unknown length: planned as long
    ],
)
def test_files_up_to_pool_max_go_to_the_pool(duration_s: float | None, expected: str) -> None:
    assert transcribe_path(duration_s, Settings(POOL_MAX_S=600)) == expected


def test_a_threshold_of_zero_turns_the_pool_off() -> None:
    assert transcribe_path(1.0, Settings(POOL_MAX_S=0)) == "job"


def test_a_file_that_needs_a_bigger_gpu_class_takes_its_own_job() -> None:
    assert transcribe_path(60.0, Settings(POOL_MAX_S=600), size_class="medium") == "job"


def test_the_default_threshold_sends_files_up_to_ten_minutes_to_the_pool() -> None:
    # docs/POOL.md#which-files-take-the-pool: a per-file job's start-up dominates every such file,
    # and longer files would hold a worker (and the files queued behind it) for minutes
    assert Settings().pool_max_s == 600


def test_the_plan_carries_the_path_and_the_request_a_worker_needs() -> None:
    # Given the pool threshold at 60 s
    short = plan_for(42.0, POOL_MAX_S="60")
    long = plan_for(4200.0, POOL_MAX_S="60")
    # Then a 42 s file goes to the pool and a 70 min one to its own job
    assert (short["path"], long["path"]) == ("pool", "job")
    # And the pool's request is what a PoolTask carries: the exact upload and the plan's mode
    request = TranscriptionRequest.model_validate(short["request"])
    assert request.source == SOURCE
    assert request.mode == short["mode"]
