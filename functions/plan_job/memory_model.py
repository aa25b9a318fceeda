"""Peak GPU memory of one Parakeet-TDT-0.6B job as a function of audio length, per mode.

Calibrated to the two measurements in docs/DESIGN.md rather than derived from first principles:
full attention fits ~10 min on a 24 GB L4 and ~24 min on an 80 GB A100. A pure quadratic through
those points overshoots (24 min would need >100 GB), so full attention is modelled as
``base + linear*t + quadratic*t^2`` (activations grow linearly, attention scores quadratically)
through both points with 2 GB of headroom left on each card. Local attention is linear (~2.5 h
on 24 GB); streaming holds one chunk window at a time, so it costs what full attention costs on
that window regardless of the file's length.
"""

from __future__ import annotations

# Weights (0.6B params, bf16), CUDA context and allocator slack: what any job holds at minimum.
BASE_GB = 3.0
# full: 3 + 1.025 t + 0.0875 t^2 (t in minutes) gives 22 GB at 10 min and 78 GB at 24 min.
FULL_LINEAR_GB_PER_MIN = 1.025
FULL_QUADRATIC_GB_PER_MIN2 = 0.0875
# local_attention: 3 + 0.1267 t gives 22 GB at 150 min.
LOCAL_LINEAR_GB_PER_MIN = 19.0 / 150.0
# Memory a card keeps free for fragmentation and the decoder: usable = capacity - headroom.
HEADROOM_GB = 2.0


def full_attention_gb(duration_s: float) -> float:
    minutes = max(duration_s, 0.0) / 60.0
    return BASE_GB + FULL_LINEAR_GB_PER_MIN * minutes + FULL_QUADRATIC_GB_PER_MIN2 * minutes**2


def local_attention_gb(duration_s: float) -> float:
    return BASE_GB + LOCAL_LINEAR_GB_PER_MIN * max(duration_s, 0.0) / 60.0


def streaming_gb(chunk_s: float, left_s: float, right_s: float) -> float:
    return full_attention_gb(chunk_s + left_s + right_s)


# batched: the engine packs windows of at most 20 s into a batch budget it derives from the free memory
# (gpu_job.engine), so its peak is the weights plus that budget whatever the file's length. This floor is
# what one full batch of 20 s windows needs at the engine's (unmeasured on a GPU yet) 4 MB per audio second
# with room for the decoder; benchmarks/gpu/run.sh measures the real figure.
BATCHED_WORKSPACE_GB = 2.0


def batched_gb() -> float:
    return BASE_GB + BATCHED_WORKSPACE_GB


def estimate_gb(mode: str, duration_s: float, chunk_s: float, left_s: float, right_s: float) -> float:
    if mode == "batched":
        return batched_gb()
    if mode == "full":
        return full_attention_gb(duration_s)
    if mode == "local_attention":
        return local_attention_gb(duration_s)
    if mode == "streaming":
        return streaming_gb(chunk_s, left_s, right_s)
    raise ValueError(f"unknown mode {mode!r}")


def fits(estimated_gb: float, gpu_memory_gb: float) -> bool:
    return estimated_gb <= gpu_memory_gb - HEADROOM_GB
