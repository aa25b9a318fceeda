"""GPU size classes: which instances a job queue runs on, how much GPU memory, what an hour costs.

Shared by plan_job (to pick a class) and index_transcript (to estimate cost), so the price used
for the estimate is the one the planner assumed. Each class's instance type is the one of its GPU
that makes an audio hour cheapest (pipeline.throughput). Prices are us-east-1 on-demand list prices per
GPU (for multi-GPU instances, the instance price divided by its GPU count, since Batch places one
job per GPU); Spot is usually cheaper, so the estimate is an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.throughput import best, option


@dataclass(frozen=True)
class GpuClass:
    name: str
    gpu: str
    gpu_memory_gb: float
    instance_types: tuple[str, ...]
    price_per_hour_usd: float


def _gpu_class(name: str, gpu: str, memory_gb: float) -> GpuClass:
    """A class on the instance of its GPU with the lowest price per audio hour, where the CPU stage
    or the GPU bounds throughput (pipeline.throughput, docs/CPU_STAGE.md). The template's
    InstanceTypes<CLASS> defaults follow it (tests/workflow/test_template_gpu_classes.py)."""
    chosen = best(gpu)
    return GpuClass(name, gpu, memory_gb, (chosen.instance,), option(gpu, chosen.instance).price_per_hour_usd)


GPU_CLASSES: dict[str, GpuClass] = {
    "small": _gpu_class("small", "NVIDIA L4", 24.0),  # g6.xlarge: the GPU bounds it
    # g6e.2xlarge: with 4 vCPUs (g6e.xlarge) the CPU stage would bound the L40S
    "medium": _gpu_class("medium", "NVIDIA L40S", 48.0),
    # p5.4xlarge: 1x H100 80 GB, 16 vCPUs (fits MaxVcpusPerClass 16; p4de.24xlarge, 8x A100 with 96 vCPUs,
    # could never be launched under it)
    "large": _gpu_class("large", "NVIDIA H100 80GB", 80.0),
}

# Smallest first: the planner takes the first class a job fits.
SIZE_ORDER: tuple[str, ...] = ("small", "medium", "large")


def price_per_hour(size_class: str) -> float | None:
    gpu_class = GPU_CLASSES.get(size_class)
    return gpu_class.price_per_hour_usd if gpu_class else None
