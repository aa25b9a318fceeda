"""Specification of the pool scaler's schedule in template.yaml (ScalePoolFunction's SafetyNet event).

The state machine calls the scaler right before it enqueues a file; the schedule is what starts a
worker for a message nobody enqueued just now (a dead worker's, visible again after the visibility
timeout, or one whose scaling call failed) and what fails the files parked in the dead-letter queue.
Locally the schedule is played by local_emulator.pool.ScheduleTicker at a compressed interval, so only
this file reads the template's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pipeline.contracts import PoolScaleRequest

from local_emulator.template import REPO_ROOT, load_template

TEMPLATE = load_template()
UNIT_S = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def schedules(function: str) -> list[dict[str, Any]]:
    events = TEMPLATE["Resources"][function]["Properties"].get("Events") or {}
    return [e["Properties"] for e in events.values() if e["Type"] == "Schedule"]


def period_s(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression)
    assert match, f"expected a rate() schedule, got {expression!r}"
    return int(match.group(1)) * UNIT_S[match.group(2)]


def default(parameter: str) -> int:
    return int(TEMPLATE["Parameters"][parameter]["Default"])


def test_the_scaler_runs_every_minute_with_nothing_incoming() -> None:
    [schedule] = schedules("ScalePoolFunction")
    assert period_s(schedule["Schedule"]) == 60
    assert PoolScaleRequest.model_validate(json.loads(schedule["Input"])).incoming == 0


def pool_task_timeout_s() -> int:
    definition = json.loads((REPO_ROOT / "statemachine" / "transcribe.asl.json").read_text())
    return int(definition["States"]["TranscribeInPool"]["TimeoutSeconds"])


def test_a_dead_workers_file_gets_all_its_tries_within_the_pool_tasks_timeout() -> None:
    # A worker that dies lets its messages go after the visibility timeout; with no worker left, the
    # next scheduled call starts one. Every try a message gets (maxReceiveCount), each as long as the
    # longest pool file, then the scheduled call that fails it from the dead-letter queue, must fit in
    # TranscribeInPool's TimeoutSeconds: otherwise an unlucky file ends as CapacityUnavailable instead
    # of being transcribed or failing as pool.worker_lost
    [schedule] = schedules("ScalePoolFunction")
    tries = TEMPLATE["Resources"]["PoolQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    back_in_queue_s = default("PoolVisibilitySeconds") + period_s(schedule["Schedule"])
    every_try_s = tries * (back_in_queue_s + default("PoolMaxSeconds")) + period_s(schedule["Schedule"])
    assert every_try_s < pool_task_timeout_s()
