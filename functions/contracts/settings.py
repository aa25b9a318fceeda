"""Every limit, threshold and default of the pipeline, read from one set of environment names.

The Lambdas and gpu_job read the same names with the same defaults (the Batch job definitions
and the functions get the same variables from template.yaml, whose parameter defaults a test
holds equal to these). Deployment wiring (bucket names, queue ARNs) is not a setting: it has no
default and lives with the code that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Field aliases are the environment variable names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    batched_max_s: float = Field(
        86400.0, ge=0, alias="BATCHED_MAX_S",
        description="Longest audio (s) planned in batched mode (VAD windows, batched encoder; memory does "
        "not grow with length). At or above MAX_DURATION_S: every accepted length. Longer: the rule below.",
    )
    full_max_s: float = Field(
        600.0, gt=0, alias="FULL_MAX_S",
        description="Longest audio (s) planned in full-attention mode (~10 min fits a 24 GB L4).",
    )
    local_attention_max_s: float = Field(
        9000.0, gt=0, alias="LOCAL_ATTENTION_MAX_S",
        description="Longest audio (s) planned in local-attention mode; longer is streamed.",
    )
    max_duration_s: float = Field(
        86400.0, gt=0, alias="MAX_DURATION_S",
        description="Uploads longer than this (s) are rejected as bad input (DurationOutOfRange).",
    )
    chunk_s: float = Field(20.0, gt=0, alias="CHUNK_S", description="Streaming chunk length (s).")
    left_s: float = Field(5.0, ge=0, alias="LEFT_S", description="Streaming left context (s).")
    right_s: float = Field(3.0, ge=0, alias="RIGHT_S", description="Streaming right context (s).")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Unset or blank variables take the default; a malformed one fails loudly, by name."""
        env = os.environ if env is None else env
        given = {}
        for name, field in cls.model_fields.items():
            raw = env.get(field.alias or name, "")
            if raw.strip():
                given[field.alias or name] = raw.strip()
        return cls.model_validate(given)

    @classmethod
    def environment_names(cls) -> dict[str, str]:
        """Field name -> environment variable name."""
        return {name: field.alias or name for name, field in cls.model_fields.items()}
