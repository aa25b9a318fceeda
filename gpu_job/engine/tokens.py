"""Decoded tokens in compact form, and their conversion to timed words with NeMo's own utilities.

Token ids, encoder-frame indices and TDT durations are kept as int tensors while decoding (a few bytes
per token), not as NeMo's per-token dicts, so a 10-hour stream does not accumulate Python objects.
Words are built at the end, in slices that start at a word boundary, with
`decoding.compute_rnnt_timestamps` + `process_timestamp_outputs` (frames -> seconds with the model's
window stride and subsampling: 10 ms x 8 = 80 ms per frame for Parakeet). Token confidences (one
float32 per token, from the decoder: gpu_job.confidence) ride along and become word confidences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from gpu_job import confidence as confidence_mod

SLICE_TOKENS = 4096


@dataclass
class DecodedWord:
    """A word as the decoder timed it, before gpu_job.transcript.normalise_words rounds and clamps it into
    the contract's pipeline.transcript.Word (built per word in the hot loop, so a plain dataclass)."""

    word: str
    start: float
    end: float
    confidence: float | None = None  # [0, 1]; None when the decoder ran without confidence


@dataclass
class Tokens:
    ids: torch.Tensor  # [N] long
    frames: torch.Tensor  # [N] long, global encoder-frame index of each token
    durations: torch.Tensor  # [N] long, TDT duration (frames) of each token
    confidence: torch.Tensor | None = None  # [N] float32 per token; None: decoded without confidence

    @classmethod
    def from_hypothesis(cls, hyp: Any) -> Tokens:
        """Copies, never views: NeMo's hypothesis tensors are slices of the decoder's preallocated
        per-chunk buffers (max_time x max_symbols), and keeping a view keeps the whole buffer alive —
        ~70 KB per 20 s chunk, which made streaming RSS grow with length until this clone."""
        ids = torch.as_tensor(hyp.y_sequence, dtype=torch.long).cpu().clone()
        frames = torch.as_tensor(hyp.timestamp, dtype=torch.long).cpu().clone()
        durations = torch.as_tensor(hyp.token_duration, dtype=torch.long).cpu().clone()
        if durations.numel() != ids.numel():  # RNN-T (non-TDT) models: one frame per token
            durations = torch.ones_like(ids)
        steps = getattr(hyp, "non_blank_step_confidence_precomputed", None)
        conf = torch.tensor(steps, dtype=torch.float32) if steps is not None else None
        if conf is not None and conf.numel() != ids.numel():
            conf = None
        return cls(ids, frames, durations, conf)

    @classmethod
    def concat(cls, parts: list[Tokens]) -> Tokens:
        """Streaming chunks in order, as one sequence; confidence kept only when every chunk has it."""
        if not parts:
            empty = torch.zeros(0, dtype=torch.long)
            return cls(empty, empty.clone(), empty.clone())
        confidences = [p.confidence for p in parts if p.confidence is not None]
        return cls(
            torch.cat([p.ids for p in parts]),
            torch.cat([p.frames for p in parts]),
            torch.cat([p.durations for p in parts]),
            torch.cat(confidences) if len(confidences) == len(parts) else None,
        )


def frame_seconds(model: Any) -> float:
    """Seconds per encoder frame (window stride x subsampling factor)."""
    return float(model.cfg.preprocessor.window_stride) * int(model.encoder.subsampling_factor)


def _word_start_ids(model: Any) -> torch.Tensor:
    """Boolean mask over the vocabulary: pieces that begin a word (SentencePiece '▁' prefix)."""
    cached = getattr(model, "_gpu_job_word_starts", None)
    if cached is not None:
        return cached
    tokenizer = model.tokenizer
    mask = torch.zeros(tokenizer.vocab_size + 1, dtype=torch.bool)
    for i in range(tokenizer.vocab_size):
        piece = tokenizer.ids_to_tokens([i])[0]
        mask[i] = piece.startswith("▁")
    model._gpu_job_word_starts = mask
    return mask


def _slice_bounds(ids: torch.Tensor, starts_mask: torch.Tensor, size: int) -> list[tuple[int, int]]:
    """Cut points near every `size` tokens, moved forward to the next word-start token."""
    n = ids.numel()
    is_start = starts_mask[ids.clamp(max=starts_mask.numel() - 1)]
    bounds, begin = [], 0
    while begin < n:
        cut = begin + size
        while cut < n and not bool(is_start[cut]):
            cut += 1
        bounds.append((begin, min(cut, n)))
        begin = cut
    return bounds


def _word_token_starts(model: Any, ids: torch.Tensor) -> list[int]:
    """Index of each NeMo word's first token, in the order `compute_rnnt_timestamps` gives the words.

    NeMo's word timestamps do not say which tokens a word is made of, and frames cannot tell (TDT emits
    several tokens on one frame). The grouping depends on the token texts alone, so the same call on
    the same ids with token *indices* as frames (duration 0) returns each word's first token index as
    its `start_offset`: NeMo's own grouping, punctuation rules included, never a copy of it."""
    from nemo.collections.asr.parts.utils.rnnt_utils import Hypothesis

    n = ids.numel()
    hyp = Hypothesis(score=0.0, y_sequence=ids, timestamp=torch.arange(n), token_duration=torch.zeros(n))
    hyp = model.decoding.compute_rnnt_timestamps(hyp, timestamp_type="word")
    return [int(w["start_offset"]) for w in hyp.timestamp.get("word", [])]


def _word_confidences(
    model: Any, ids: torch.Tensor, token_conf: torch.Tensor, words: int
) -> list[float | None]:
    """Per word: NeMo's aggregation over its tokens, from its first token to the next word's first."""
    starts = _word_token_starts(model, ids)
    if len(starts) != words:  # cannot happen while NeMo groups by text only; never guess a mapping
        return [None] * words
    values = token_conf.tolist()
    # tokens before the first word's (a lone word separator) count towards it
    out: list[float | None] = []
    for start, stop in zip([0, *starts[1:]], [*starts[1:], len(values)], strict=True):
        out.append(confidence_mod.aggregate(values[start:stop]) if stop > start else None)
    return out


def to_words(model: Any, tokens: Tokens) -> list[DecodedWord]:
    from nemo.collections.asr.parts.utils.rnnt_utils import Hypothesis
    from nemo.collections.asr.parts.utils.timestamp_utils import process_timestamp_outputs

    words: list[DecodedWord] = []
    if tokens.ids.numel() == 0:
        return words
    subsampling = int(model.encoder.subsampling_factor)
    stride = float(model.cfg.preprocessor.window_stride)
    for begin, end in _slice_bounds(tokens.ids, _word_start_ids(model), SLICE_TOKENS):
        ids = tokens.ids[begin:end]
        hyp = Hypothesis(
            score=0.0,
            y_sequence=ids,
            timestamp=tokens.frames[begin:end],
            token_duration=tokens.durations[begin:end],
        )
        hyp = model.decoding.compute_rnnt_timestamps(hyp, timestamp_type="word")
        hyp = process_timestamp_outputs(hyp, subsampling_factor=subsampling, window_stride=stride)[0]
        timed = hyp.timestamp.get("word", [])
        confidences: list[float | None] = [None] * len(timed)
        if tokens.confidence is not None:
            confidences = _word_confidences(model, ids, tokens.confidence[begin:end], len(timed))
        for w, conf in zip(timed, confidences, strict=True):
            text = str(w["word"]).strip()
            if text:
                at, until = float(w["start"]), float(w["end"])
                words.append(DecodedWord(word=text, start=at, end=until, confidence=conf))
    return words
