"""The one rule that picks an inference mode from a duration: the planner and gpu_job's `auto` call it.

`batched` (gpu_job.engine.engine: VAD windows of at most 20 s cut at pauses, batched across files, silence
never reaching the model) is as accurate as full attention on the accuracy suite and its memory
does not grow with the file, so by default it serves every accepted length. Lowering BATCHED_MAX_S
brings back the older rule above it: full attention (most accurate on one window, memory quadratic
in length), local attention (linear), streaming (constant). Thresholds are inclusive upper bounds.
An unknown duration (the container declares none) is planned as long.
"""

from __future__ import annotations

from typing import get_args

from pipeline.settings import Settings
from pipeline.types import Mode

# Most accurate first: the planner walks down this list when a mode fits no GPU class.
MODES: tuple[str, ...] = get_args(Mode)


def preferred_mode(duration_s: float | None, settings: Settings) -> str:
    batched_everywhere = settings.batched_max_s >= settings.max_duration_s
    if duration_s is None:
        return "batched" if batched_everywhere else "streaming"
    if duration_s <= settings.batched_max_s:
        return "batched"
    if duration_s <= settings.full_max_s:
        return "full"
    if duration_s <= settings.local_attention_max_s:
        return "local_attention"
    return "streaming"
