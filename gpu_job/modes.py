"""Which inference mode a file gets, and the encoder attention each mode needs.

`auto` picks by duration (thresholds from gpu_job.config.Limits, env-overridable): full attention is
the most accurate but its memory grows quadratically; local attention is linear; streaming is
constant. An unknown duration (container does not declare it) is treated as long: streaming.
"""

from __future__ import annotations

from typing import Any

from gpu_job.config import Limits
from gpu_job.model import model_info

MODES = ("full", "local_attention", "streaming")
LOCAL_ATTENTION_CONTEXT = (128, 128)


def choose_mode(requested: str, duration_s: float | None, limits: Limits) -> str:
    if requested in MODES:
        return requested
    if requested != "auto":
        raise ValueError(f"unknown mode {requested!r}; expected auto or one of {MODES}")
    if duration_s is None:
        return "streaming"
    if duration_s <= limits.full_max_s:
        return "full"
    if duration_s <= limits.local_attention_max_s:
        return "local_attention"
    return "streaming"


def configure_attention(model: Any, mode: str) -> None:
    """Local attention: `rel_pos_local_attn` with a [128, 128] window plus conv-subsampling chunking
    factor 1 (NeMo's recipe for long audio). Other modes restore the attention the model was loaded
    with, because one memoised model serves jobs of every mode."""
    info = model_info(model)
    if mode == "local_attention":
        wanted = ("rel_pos_local_attn", LOCAL_ATTENTION_CONTEXT, 1)
    else:
        wanted = (info.attention_model, info.att_context_size, info.conv_chunking_factor)
    if getattr(model, "_gpu_job_attention", None) == wanted:
        return
    attention, context, chunking = wanted
    model.change_attention_model(self_attention_model=attention, att_context_size=list(context))
    model.change_subsampling_conv_chunking_factor(chunking)
    # change_attention_model builds fresh attention modules in training mode (dropout on): back to eval.
    model.eval()
    model._gpu_job_attention = wanted
