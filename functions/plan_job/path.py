"""Which path a file takes to the GPU: a warm pool worker, or a Batch job of its own.

A per-file Batch job pays instance start, image pull, Python + NeMo import and model load (about
50 s on AWS) for a short file's second of GPU work; a pool worker pays them once for hundreds of
files. Long files keep their own job: they are where the start-up stops mattering, and they would
hold a pool worker (and the files queued behind it) for minutes. The pool runs on the smallest GPU
class only, so a file that needs a bigger one takes its own job whatever its length.
"""

from __future__ import annotations

from pipeline.settings import Settings
from pipeline.types import TranscribePath

# The pool's workers run on this class's job queue (template.yaml PoolJobQueue).
POOL_SIZE_CLASS = "small"


def transcribe_path(
    duration_s: float | None, settings: Settings, size_class: str = POOL_SIZE_CLASS
) -> TranscribePath:
    """``pool`` for a file of known length up to ``POOL_MAX_S`` (inclusive) that fits the pool's
    class; ``job`` otherwise. An unknown length is planned as long (streaming), so it takes a job."""
    if duration_s is None or settings.pool_max_s <= 0 or size_class != POOL_SIZE_CLASS:
        return "job"
    return "pool" if duration_s <= settings.pool_max_s else "job"
