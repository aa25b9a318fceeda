"""Re-exported from contracts.gpu_classes while callers move to importing it directly."""

from contracts.gpu_classes import GPU_CLASSES, SIZE_ORDER, GpuClass, price_per_hour  # noqa: F401
