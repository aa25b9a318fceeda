"""What the container reads from its environment beyond the pipeline's settings.

Limits and defaults (mode thresholds, MAX_DURATION_S, streaming window) are
`pipeline.settings.Settings`, read from the same environment names as the Lambdas; only the
container's own choices live here: which weights to load and on which device.
"""

from __future__ import annotations

import os

DEFAULT_MODEL = "nvidia/parakeet-tdt-0.6b-v3"
# The production diarizer (docs/SPEAKERS.md: its licence allows commercial use; baked into the image).
DEFAULT_DIARIZER = "nvidia/diar_streaming_sortformer_4spk-v2.1"


def default_model() -> str:
    return os.environ.get("GPU_JOB_MODEL") or DEFAULT_MODEL


def default_diarizer() -> str:
    """GPU_JOB_DIARIZER: a pretrained name, a .nemo file, or the tiny test diarizer's .npz."""
    return os.environ.get("GPU_JOB_DIARIZER") or DEFAULT_DIARIZER


def default_device() -> str | None:
    return os.environ.get("GPU_JOB_DEVICE") or None
