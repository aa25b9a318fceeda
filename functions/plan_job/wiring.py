"""Where Plan sends a job in this deployment: the template's bucket, queue and job-definition ARNs.

Not settings (those are pipeline.settings.Settings, with defaults): wiring has no default and is
checked by name only when a plan needs it, so a stack that never uses the large class need not
configure it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.gpu_classes import SIZE_ORDER
from pipeline.modes import MODES


@dataclass(frozen=True)
class Wiring:
    output_bucket: str
    job_queues: Mapping[str, str]  # size class -> job queue ARN
    job_definitions: Mapping[str, str]  # mode -> job definition ARN
    instance_types: Mapping[str, tuple[str, ...]]  # size class -> overrides of the GPU class table


class PlannerConfigError(Exception):
    """A value the plan needs is missing: an internal (deployment) error, reported by name."""


def require(value: str, name: str) -> str:
    if not value:
        raise PlannerConfigError(f"environment variable {name} is not set")
    return value


def _list_env(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def load_wiring(env: Mapping[str, str] | None = None) -> Wiring:
    """``OUTPUT_BUCKET``, ``JOB_QUEUE_<CLASS>``, ``JOB_DEFINITION_<MODE>`` and the optional
    ``INSTANCE_TYPES_<CLASS>`` (comma-separated; mirrors the template's instance-type parameters,
    so the catalog names what really ran when an operator changes them)."""
    env = os.environ if env is None else env
    return Wiring(
        output_bucket=env.get("OUTPUT_BUCKET", ""),
        job_queues={size: env.get(f"JOB_QUEUE_{size.upper()}", "") for size in SIZE_ORDER},
        job_definitions={mode: env.get(f"JOB_DEFINITION_{mode.upper()}", "") for mode in MODES},
        instance_types={size: _list_env(env, f"INSTANCE_TYPES_{size.upper()}") for size in SIZE_ORDER},
    )
