"""GPU size classes: which instances a job queue runs on, how much GPU memory, what an hour costs.

Shared by plan_job (to pick a class) and index_transcript (to estimate cost), so the price used
for the estimate is the one the planner assumed. Prices are us-east-1 on-demand list prices per
GPU (for multi-GPU instances, the instance price divided by its GPU count, since Batch places one
job per GPU); Spot is usually cheaper, so the estimate is an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuClass:
    name: str
    gpu: str
    gpu_memory_gb: float
    instance_types: tuple[str, ...]
    price_per_hour_usd: float


GPU_CLASSES: dict[str, GpuClass] = {
    "small": GpuClass("small", "NVIDIA L4", 24.0, ("g6.xlarge",), 0.8048),
    "medium": GpuClass("medium", "NVIDIA L40S", 48.0, ("g6e.xlarge",), 1.861),
    # p5.4xlarge: 1x H100 80 GB, 16 vCPUs (fits MaxVcpusPerClass 16; p4de.24xlarge, 8x A100 with 96 vCPUs,
    # could never be launched under it), 6.88 USD/h (us-east-1 list price after the 2025 P5 price cut).
    "large": GpuClass("large", "NVIDIA H100 80GB", 80.0, ("p5.4xlarge",), 6.88),
}

# Smallest first: the planner takes the first class a job fits.
SIZE_ORDER: tuple[str, ...] = ("small", "medium", "large")


def price_per_hour(size_class: str) -> float | None:
    gpu_class = GPU_CLASSES.get(size_class)
    return gpu_class.price_per_hour_usd if gpu_class else None
