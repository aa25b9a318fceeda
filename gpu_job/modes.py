"""Which inference mode a file gets, and the encoder attention each mode needs.

`auto` (a person's choice; a Batch job gets the mode its Plan chose) applies the pipeline's one rule,
`pipeline.modes.preferred_mode`, to the decoded duration, with the thresholds of
`pipeline.settings.Settings` (the same environment names and defaults as the planner).
"""

from __future__ import annotations

from typing import Any

import torch
from pipeline.modes import MODES, preferred_mode
from pipeline.settings import Settings

from gpu_job.model import model_info

LOCAL_ATTENTION_CONTEXT = (128, 128)


def choose_mode(requested: str, duration_s: float | None, settings: Settings) -> str:
    if requested in MODES:
        return requested
    if requested != "auto":
        raise ValueError(f"unknown mode {requested!r}; expected auto or one of {MODES}")
    return preferred_mode(duration_s, settings)


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
    wanted: tuple[str, tuple[int, ...], int]
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
