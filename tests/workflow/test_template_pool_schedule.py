"""Specification of the pool scaler's schedule in template.yaml (ScalePoolFunction's SafetyNet event).

The state machine calls the scaler right before it enqueues a file; the schedule is what starts a
worker for a message nobody enqueued just now: a dead worker's, visible again after the visibility
timeout, or one whose scaling call failed. Locally the schedule is played by
local_emulator.pool.ScheduleTicker at a compressed interval, so only this file reads the template's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from contracts.models import PoolScaleRequest

from local_emulator.template import load_template

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


def test_a_dead_workers_file_is_picked_up_again_before_its_task_heartbeat_times_out() -> None:
    # A worker that dies lets its messages go after the visibility timeout; with no worker left, the
    # next scheduled call starts one: both (and that worker's start) must fit in the task heartbeat, or
    # the file is retried with a new message although nothing was wrong with it
    [schedule] = schedules("ScalePoolFunction")
    back_in_queue_s = default("PoolVisibilitySeconds") + period_s(schedule["Schedule"])
    assert back_in_queue_s < default("PoolTaskHeartbeatSeconds")
