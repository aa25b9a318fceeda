"""Choose inference mode and GPU size class for one file; build the Plan of docs/CONTRACTS.md.

Policy: the most accurate mode the configured thresholds allow (full, then local attention,
then streaming), on the smallest GPU class that mode fits. If the preferred mode would need more
memory than the largest class has, fall back to the next mode instead of failing: DESIGN.md
prefers local attention over a huge instance because it is cheaper, and streaming always fits.
"""

from __future__ import annotations

import math
from typing import Any

from common.errors import DurationOutOfRange, NoAudioStream
from common.gpu_classes import GPU_CLASSES, SIZE_ORDER, GpuClass
from common.layout import output_prefix
from contracts.settings import Settings

from plan_job.memory_model import estimate_gb, fits
from plan_job.naming import job_name
from plan_job.path import transcribe_path
from plan_job.settings import MODES, PlannerSettings, require


def preferred_mode(duration_s: float | None, settings: PlannerSettings) -> str:
    """Thresholds are inclusive upper bounds; an unknown duration gets streaming (safe at any length)."""
    if duration_s is None:
        return "streaming"
    if duration_s <= settings.full_max_s:
        return "full"
    if duration_s <= settings.local_attention_max_s:
        return "local_attention"
    return "streaming"


def smallest_fitting_class(estimated_gb: float) -> GpuClass | None:
    for size in SIZE_ORDER:
        if fits(estimated_gb, GPU_CLASSES[size].gpu_memory_gb):
            return GPU_CLASSES[size]
    return None


def choose(duration_s: float | None, settings: PlannerSettings) -> tuple[str, GpuClass, float]:
    """Return (mode, GPU class, estimated GB), walking down the modes until one fits a class."""
    first = MODES.index(preferred_mode(duration_s, settings))
    length = duration_s or 0.0
    for mode in MODES[first:]:
        estimated = estimate_gb(mode, length, settings.chunk_s, settings.left_s, settings.right_s)
        gpu_class = smallest_fitting_class(estimated)
        if gpu_class is not None:
            return mode, gpu_class, estimated
    raise ValueError(
        f"streaming with chunk {settings.chunk_s}+{settings.left_s}+{settings.right_s} s fits no GPU class; "
        "check CHUNK_S/LEFT_S/RIGHT_S"
    )


def validate_duration(duration_s: Any, max_duration_s: float) -> float | None:
    if duration_s is None:
        return None
    try:
        value = float(duration_s)
    except (TypeError, ValueError) as exc:
        raise DurationOutOfRange(f"duration {duration_s!r} is not a number") from exc
    if math.isnan(value) or value <= 0:
        raise DurationOutOfRange(f"duration {value} s is not positive")
    if value > max_duration_s:
        raise DurationOutOfRange(f"duration {value:.1f} s exceeds the maximum of {max_duration_s:.0f} s")
    return value


def _arg(number: float) -> str:
    """CLI form of a number: 20.0 -> "20", 0.5 -> "0.5"."""
    return f"{number:g}"


def build_command(source_uri: str, prefix: str, mode: str, chunking: dict[str, float] | None) -> list[str]:
    command = ["--input", source_uri, "--output", prefix, "--mode", mode]
    if chunking is not None:
        command += [
            "--chunk-s", _arg(chunking["chunk_s"]),
            "--left-s", _arg(chunking["left_s"]),
            "--right-s", _arg(chunking["right_s"]),
        ]  # fmt: skip
    return command


def plan(source: dict[str, Any], probe: dict[str, Any], settings: PlannerSettings,
         contract_settings: Settings | None = None) -> dict[str, Any]:
    """The Plan dict; every field the Transcribe and Index states need is ready-made here.
    ``contract_settings`` holds the pool threshold (POOL_MAX_S); by default the environment's."""
    if probe.get("has_audio") is False:
        raise NoAudioStream(f"{source.get('uri')} has no audio stream")
    duration_s = validate_duration(probe.get("duration_s"), settings.max_duration_s)
    mode, gpu_class, estimated_gb = choose(duration_s, settings)
    chunking = (
        {"chunk_s": settings.chunk_s, "left_s": settings.left_s, "right_s": settings.right_s}
        if mode == "streaming"
        else None
    )
    prefix = output_prefix(require(settings.output_bucket, "OUTPUT_BUCKET"), source["key"])
    path = transcribe_path(duration_s, contract_settings or Settings.from_env(), gpu_class.name)
    return {
        "mode": mode,
        "size_class": gpu_class.name,
        "path": path,
        "request": {"source": source, "output_prefix": prefix, "mode": mode, "chunking": chunking},
        "job_queue": require(settings.job_queues[gpu_class.name], f"JOB_QUEUE_{gpu_class.name.upper()}"),
        "job_definition": require(settings.job_definitions[mode], f"JOB_DEFINITION_{mode.upper()}"),
        "job_name": job_name(source["uri"], source.get("etag") or ""),
        "output_prefix": prefix,
        "command": build_command(source["uri"], prefix, mode, chunking),
        "chunking": chunking,
        "duration_s": duration_s,
        "estimated_gpu_memory_gb": round(estimated_gb, 1),
        "gpu": gpu_class.gpu,
        "gpu_memory_gb": gpu_class.gpu_memory_gb,
        "instance_types": list(settings.instance_types.get(gpu_class.name) or gpu_class.instance_types),
        "price_per_hour_usd": gpu_class.price_per_hour_usd,
    }
