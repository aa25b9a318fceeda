"""Word confidence from NeMo's own estimator in the TDT decoder (docs/CONFIDENCE.md).

Why NeMo's and not a softmax max of our own: NeMo's label-looping decoding computer computes a
per-token confidence inside the decoding loop (`preserve_step_confidence`), on the joint's logits it
already has, so nothing is re-run and nothing extra leaves the GPU but one float per emitted token.
It does so in every code path of the computer, the CUDA-graph ones included (NeMo 3.0
`GreedyBatchedTDTLabelLoopingComputer`: CUDA graphs stay allowed with confidence on; only fusion
models switch them off). `exclude_blank=True` is what keeps it cheap: with blanks included NeMo
records every decoding step (`record_all_steps`), blanks too, and warns that decoding gets slower.

The method is NeMo's default and the one its confidence paper recommends for transducers: the
Tsallis entropy of the token distribution with alpha 1/3, mapped to [0, 1] exponentially
(1 = one token holds all the probability). Token confidences become word confidences with NeMo's
aggregation bank; `min` (NeMo's default) because a word is wrong when any of its pieces is, and it
separated correct from wrong words best on our held-out noisy set (benchmarks/confidence.py).

Words: our words are NeMo's word timestamps (gpu_job.engine.tokens.to_words); each word gets the tokens
from its first token up to the next word's first one, so attached punctuation counts and nothing is
shared between words.
"""

from __future__ import annotations

from typing import Any

METHOD: dict[str, Any] = {"name": "entropy", "entropy_type": "tsallis", "alpha": 0.33, "entropy_norm": "exp"}
WORD_AGGREGATION = "min"


def decoding_config(enabled: bool) -> dict[str, Any]:
    """The `decoding.confidence_cfg` (NeMo's ConfidenceConfig fields) that turns token confidence on or off.

    `preserve_frame_confidence` is what the greedy batched TDT decoder reads; token and word confidence
    (NeMo's `compute_confidence`) only run in `rnnt_decoder_predictions_tensor`, which the engine does not
    call: it calls the decoding computer directly and aggregates per word here."""
    return {
        "preserve_frame_confidence": enabled,
        "preserve_token_confidence": False,
        "preserve_word_confidence": False,
        "exclude_blank": True,
        "aggregation": WORD_AGGREGATION,
        "tdt_include_duration": False,
        "method_cfg": dict(METHOD),
    }


def aggregate(token_confidences: list[float]) -> float:
    """One word's confidence from its tokens', with NeMo's aggregation function, clamped to [0, 1]
    (bf16 logits can put the normalised entropy a hair outside)."""
    from nemo.collections.asr.parts.utils.asr_confidence_utils import get_confidence_aggregation_bank

    value = float(get_confidence_aggregation_bank()[WORD_AGGREGATION](token_confidences))
    return min(1.0, max(0.0, value))


def mean(values: list[float | None]) -> float | None:
    """A segment's confidence: the mean of its words' (None when any word has none)."""
    if not values or any(v is None for v in values):
        return None
    return round(sum(v for v in values if v is not None) / len(values), 4)
