"""Specification of the planner's path rule: short files to the pool, long ones to their own job."""

from __future__ import annotations

import pytest
from contracts.models import TranscriptionRequest
from contracts.settings import Settings
from plan_job.path import transcribe_path
from plan_job.planner import plan
from plan_job.settings import load_settings

from tests.unit.test_plan_job import ENV, SOURCE


@pytest.mark.parametrize(("duration_s", "expected"), [
    (5.0, "pool"), (180.0, "pool"), (600.0, "pool"),  # inclusive upper bound
    (600.5, "job"), (3600.0, "job"),
    (None, "job"),  # unknown length: planned as long
])
def test_files_up_to_pool_max_go_to_the_pool(duration_s: float | None, expected: str) -> None:
    assert transcribe_path(duration_s, Settings(POOL_MAX_S=600)) == expected


def test_a_threshold_of_zero_turns_the_pool_off() -> None:
    assert transcribe_path(1.0, Settings(POOL_MAX_S=0)) == "job"


def test_a_file_that_needs_a_bigger_gpu_class_takes_its_own_job() -> None:
    assert transcribe_path(60.0, Settings(POOL_MAX_S=600), size_class="medium") == "job"


def test_the_default_threshold_is_the_full_attention_limit() -> None:
    # README "Worker pool": start-up dominates every file the pool's class holds in full attention
    defaults = Settings()
    assert defaults.pool_max_s == defaults.full_max_s


def test_the_plan_carries_the_path_and_the_request_a_worker_needs() -> None:
    settings, pool = load_settings(ENV), Settings(POOL_MAX_S=60)
    short = plan(SOURCE, {"duration_s": 42.0, "has_audio": True}, settings, pool)
    long = plan(SOURCE, {"duration_s": 4200.0, "has_audio": True}, settings, pool)

    assert (short["path"], long["path"]) == ("pool", "job")
    request = short["request"]
    assert request["source"] == SOURCE
    assert (request["output_prefix"], request["mode"]) == (short["output_prefix"], short["mode"])
    # It is the TranscriptionRequest a PoolTask carries
    assert TranscriptionRequest.model_validate(request).source.uri == SOURCE["uri"]
