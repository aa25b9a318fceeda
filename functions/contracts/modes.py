"""The one rule that picks an inference mode from a duration: the planner and gpu_job's `auto` call it.

Full attention is the most accurate but its memory grows quadratically with length; local
attention is linear; streaming is constant. Thresholds are inclusive upper bounds. An unknown
duration (the container declares none) is planned as long: streaming fits any length.
"""

from __future__ import annotations

from typing import get_args

from contracts.models import Mode
from contracts.settings import Settings

# Most accurate first: the planner walks down this list when a mode fits no GPU class.
MODES: tuple[str, ...] = get_args(Mode)


def preferred_mode(duration_s: float | None, settings: Settings) -> str:
    if duration_s is None:
        return "streaming"
    if duration_s <= settings.full_max_s:
        return "full"
    if duration_s <= settings.local_attention_max_s:
        return "local_attention"
    return "streaming"
