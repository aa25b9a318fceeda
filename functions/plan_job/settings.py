"""Planner thresholds and the template's ARNs, read from the environment.

Thresholds have defaults (DESIGN.md's measurements) so the planner works with no configuration;
the template may override them per stack (e.g. raise FULL_MAX_S to buy accuracy with bigger GPUs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from common.gpu_classes import SIZE_ORDER

MODES: tuple[str, ...] = ("full", "local_attention", "streaming")

DEFAULT_FULL_MAX_S = 600.0  # 10 min: full attention on a 24 GB L4
DEFAULT_LOCAL_ATTENTION_MAX_S = 9000.0  # 2.5 h: local attention on a 24 GB L4
DEFAULT_MAX_DURATION_S = 86400.0  # 24 h: longer uploads are rejected as bad input
DEFAULT_CHUNK_S = 20.0
DEFAULT_LEFT_S = 5.0
DEFAULT_RIGHT_S = 3.0


@dataclass(frozen=True)
class PlannerSettings:
    full_max_s: float
    local_attention_max_s: float
    max_duration_s: float
    chunk_s: float
    left_s: float
    right_s: float
    output_bucket: str
    job_queues: Mapping[str, str]  # size class -> job queue ARN
    job_definitions: Mapping[str, str]  # mode -> job definition ARN
    instance_types: Mapping[str, tuple[str, ...]]  # size class -> overrides of the GPU class table


class PlannerConfigError(Exception):
    """A setting the plan needs is missing: an internal (deployment) error, reported by name."""


def require(value: str, name: str) -> str:
    if not value:
        raise PlannerConfigError(f"environment variable {name} is not set")
    return value


def _float_env(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not a number") from exc


def _list_env(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def load_settings(env: Mapping[str, str] | None = None) -> PlannerSettings:
    """Read settings. Missing ARNs are kept empty here and rejected by name when a plan needs them,
    so a stack that never uses the large class need not configure it.

    ``INSTANCE_TYPES_<CLASS>`` (comma-separated, optional) mirrors the template's instance-type
    parameters, so the catalog names what really ran when an operator changes them.
    """
    env = os.environ if env is None else env
    return PlannerSettings(
        full_max_s=_float_env(env, "FULL_MAX_S", DEFAULT_FULL_MAX_S),
        local_attention_max_s=_float_env(env, "LOCAL_ATTENTION_MAX_S", DEFAULT_LOCAL_ATTENTION_MAX_S),
        max_duration_s=_float_env(env, "MAX_DURATION_S", DEFAULT_MAX_DURATION_S),
        chunk_s=_float_env(env, "CHUNK_S", DEFAULT_CHUNK_S),
        left_s=_float_env(env, "LEFT_S", DEFAULT_LEFT_S),
        right_s=_float_env(env, "RIGHT_S", DEFAULT_RIGHT_S),
        output_bucket=env.get("OUTPUT_BUCKET", ""),
        job_queues={size: env.get(f"JOB_QUEUE_{size.upper()}", "") for size in SIZE_ORDER},
        job_definitions={mode: env.get(f"JOB_DEFINITION_{mode.upper()}", "") for mode in MODES},
        instance_types={size: _list_env(env, f"INSTANCE_TYPES_{size.upper()}") for size in SIZE_ORDER},
    )
