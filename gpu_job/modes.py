"""Which inference mode a file gets, and the encoder attention each mode needs.

`auto` picks by duration (thresholds from gpu_job.config.Limits, env-overridable): `batched` (the
VAD-windowed batched engine, gpu_job.engine: full attention within windows of at most 20 s, so its
memory does not grow with the file) up to `batched_max_s`, which by default is every accepted length;
above it, the older rule: full attention (most accurate, memory quadratic), local attention (linear),
streaming (constant). An unknown duration (container does not declare it) is treated as long.
"""

from __future__ import annotations

from typing import Any

import torch

from gpu_job.config import Limits
from gpu_job.model import model_info

MODES = ("batched", "full", "local_attention", "streaming")
LOCAL_ATTENTION_CONTEXT = (128, 128)


def choose_mode(requested: str, duration_s: float | None, limits: Limits) -> str:
    if requested in MODES:
        return requested
    if requested != "auto":
        raise ValueError(f"unknown mode {requested!r}; expected auto or one of {MODES}")
    if duration_s is None:
        return "batched" if limits.batched_max_s >= limits.max_duration_s else "streaming"
    if duration_s <= limits.batched_max_s:
        return "batched"
    if duration_s <= limits.full_max_s:
        return "full"
    if duration_s <= limits.local_attention_max_s:
        return "local_attention"
    return "streaming"


def _current_attention(model: Any) -> tuple[str, tuple[int, ...], int]:
    encoder = model.encoder
    chunking = getattr(encoder.pre_encode, "subsampling_conv_chunking_factor", 1)
    return (str(encoder.self_attention_model), tuple(encoder.att_context_size), int(chunking))


def configure_attention(model: Any, mode: str) -> None:
    """Local attention: `rel_pos_local_attn` with a [128, 128] window plus conv-subsampling chunking
    factor 1 (NeMo's recipe for long audio). Other modes restore the attention the model was loaded
    with, because one memoised model serves jobs of every mode.

    NeMo's `change_attention_model` rebuilds the attention modules with biases even when the model was
    trained without them (`use_bias: false`, as in Parakeet's config) and leaves those biases randomly
    initialised; we zero every parameter it adds, which is exactly "no bias". It is only called when the
    attention actually has to change.
    """
    info = model_info(model)
    if mode == "local_attention":
        wanted = ("rel_pos_local_attn", LOCAL_ATTENTION_CONTEXT, 1)
    else:
        wanted = (info.attention_model, tuple(info.att_context_size), info.conv_chunking_factor)
    if _current_attention(model) == wanted:
        return
    attention, context, chunking = wanted
    before = set(model.encoder.state_dict())
    model.change_attention_model(self_attention_model=attention, att_context_size=list(context))
    model.change_subsampling_conv_chunking_factor(chunking)
    with torch.no_grad():
        for name, tensor in model.encoder.state_dict().items():
            if name not in before and name.endswith(".bias"):
                tensor.zero_()
    # The rebuilt modules start in training mode (dropout on): back to eval.
    model.eval()
