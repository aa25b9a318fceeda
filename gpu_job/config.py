"""Run-time settings read from the environment, so Batch job definitions can override defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MODEL = "nvidia/parakeet-tdt-0.6b-v3"


def _env_float(name: str, default: float, env: Mapping[str, str] | None = None) -> float:
    value = (os.environ if env is None else env).get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class Limits:
    """Duration thresholds; the names match the plan_job Lambda's so both sides agree on a mode.

    Defaults follow DESIGN.md: full attention fits ~10 min on a 24 GB L4, local attention ~2.5 h.
    """

    full_max_s: float = 600.0
    local_attention_max_s: float = 9000.0
    max_duration_s: float = 43200.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """From ``env`` (default: the process environment; a pool worker run in-process passes its job's)."""
        return cls(
            full_max_s=_env_float("FULL_MAX_S", cls.full_max_s, env),
            local_attention_max_s=_env_float("LOCAL_ATTENTION_MAX_S", cls.local_attention_max_s, env),
            max_duration_s=_env_float("MAX_DURATION_S", cls.max_duration_s, env),
        )


def default_model() -> str:
    return os.environ.get("GPU_JOB_MODEL") or DEFAULT_MODEL


def default_device() -> str | None:
    return os.environ.get("GPU_JOB_DEVICE") or None
