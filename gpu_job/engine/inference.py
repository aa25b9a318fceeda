"""Run the encoder and NeMo's label-looping TDT decoding computer: whole signal, or buffered chunks.

Streaming follows NeMo 3.0's buffered RNN-T/TDT recipe (examples/asr/asr_chunked_inference/rnnt/
speech_to_text_streaming_infer_rnnt.py) with its own building blocks — `ContextSize`,
`StreamingBatchedAudioBuffer`, the decoding computer called with `prev_batched_state` so the
prediction network state and the TDT time jump carry across chunks — adapted to NeMo 3.0's API (the
computer returns `(hyps, state)`; `batched_hyps_to_hypotheses(hyps, batch_size=)`) and fed from an
incremental decoder instead of a whole-file array. The computer already offsets each chunk's token
frames by the frames decoded so far, so token times are global.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gpu_job.engine.tokens import Tokens


def _decoding_computer(model: Any) -> Any:
    return model.decoding.decoding.decoding_computer


def _biasing_ids(ids: list[int] | None, device: torch.device) -> torch.Tensor | None:
    """Per-row ids of phrase-boosting trees (gpu_job.boosting; -1: none), or None when no row boosts."""
    if ids is None or all(i < 0 for i in ids):
        return None
    return torch.tensor(ids, dtype=torch.long, device=device)


def _hypothesis_tokens(batched_hyps: Any) -> Tokens:
    from nemo.collections.asr.parts.utils.rnnt_utils import batched_hyps_to_hypotheses

    return Tokens.from_hypothesis(batched_hyps_to_hypotheses(batched_hyps, batch_size=1)[0])


def transcribe_signal(model: Any, samples: np.ndarray, biasing_id: int = -1) -> Tokens:
    """Full-context pass (full or local-attention mode, depending on the encoder's configuration);
    `biasing_id`: the vocabulary's tree (gpu_job.boosting), -1 for none."""
    signal = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(model.device)
    length = torch.tensor([signal.shape[1]], device=model.device)
    with torch.inference_mode():
        encoded, encoded_len = model(input_signal=signal, input_signal_length=length)
        hyps, _state = _decoding_computer(model)(
            x=encoded.transpose(1, 2),
            out_len=encoded_len,
            multi_biasing_ids=_biasing_ids([biasing_id], model.device),
        )
    return _hypothesis_tokens(hyps)


@dataclass(frozen=True)
class SampleChunking:
    """Chunk settings rounded down to whole encoder frames (80 ms for Parakeet), in audio samples."""

    left: int
    chunk: int
    right: int
    sample_rate: int
    frame_samples: int  # audio samples per encoder frame

    @classmethod
    def for_model(cls, model: Any, chunk_s: float, left_s: float, right_s: float) -> SampleChunking:
        rate = int(model.cfg.preprocessor.sample_rate)
        subsampling = int(model.encoder.subsampling_factor)
        stride = float(model.cfg.preprocessor.window_stride)
        feature_samples = (int(rate * stride) // subsampling) * subsampling
        frame_samples = feature_samples * subsampling
        frames_per_s = 1.0 / stride / subsampling

        def frames(seconds: float) -> int:
            return int(seconds * frames_per_s)

        if frames(chunk_s) < 1:
            raise ValueError(f"chunk_s={chunk_s} is shorter than one encoder frame")
        return cls(
            left=frames(left_s) * frame_samples,
            chunk=frames(chunk_s) * frame_samples,
            right=frames(right_s) * frame_samples,
            sample_rate=rate,
            frame_samples=frame_samples,
        )

    def seconds(self) -> dict[str, float]:
        return {
            "chunk_s": self.chunk / self.sample_rate,
            "left_s": self.left / self.sample_rate,
            "right_s": self.right / self.sample_rate,
        }


class _SampleReader:
    """Serves exact sample counts from a block iterator and can tell whether anything is left."""

    def __init__(self, blocks: Iterator[np.ndarray]):
        self._blocks = blocks
        self._buf = np.zeros(0, dtype=np.float32)

    def _fill(self, n: int) -> None:
        parts = [self._buf]
        have = self._buf.shape[0]
        while have < n:
            block = next(self._blocks, None)
            if block is None:
                break
            parts.append(block)
            have += block.shape[0]
        self._buf = np.concatenate(parts) if len(parts) > 1 else self._buf

    def take(self, n: int) -> np.ndarray:
        self._fill(n)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def exhausted(self) -> bool:
        self._fill(1)
        return self._buf.shape[0] == 0


@dataclass
class StreamResult:
    tokens: Tokens
    chunks: int
    samples: int


def transcribe_stream(
    model: Any, blocks: Iterator[np.ndarray], chunking: SampleChunking, biasing_id: int = -1
) -> StreamResult:
    """Buffered streaming: [left | chunk | right] windows; only chunk frames are decoded, except in the
    last window, which decodes everything after its left context (its true remaining length)."""
    from nemo.collections.asr.parts.utils.streaming_utils import ContextSize, StreamingBatchedAudioBuffer

    device = model.device
    frame_samples = chunking.frame_samples
    context = ContextSize(left=chunking.left, chunk=chunking.chunk, right=chunking.right)
    buffer = StreamingBatchedAudioBuffer(
        batch_size=1, context_samples=context, dtype=torch.float32, device=device
    )
    computer = _decoding_computer(model)
    biasing = _biasing_ids([biasing_id], device)
    reader = _SampleReader(blocks)
    parts: list[Tokens] = []
    state = None
    chunks = 0
    samples = 0
    with torch.inference_mode():
        want = chunking.chunk + chunking.right  # the first window has no left context yet
        while True:
            piece = reader.take(want)
            if piece.shape[0] == 0:
                break
            samples += piece.shape[0]
            is_last = reader.exhausted()
            is_last_batch = torch.tensor([is_last], device=device)
            buffer.add_audio_batch_(
                torch.from_numpy(np.ascontiguousarray(piece))[None].to(device),
                audio_lengths=torch.tensor([piece.shape[0]], device=device),
                is_last_chunk=is_last,
                is_last_chunk_batch=is_last_batch,
            )
            encoded, encoded_len = model(
                input_signal=buffer.samples, input_signal_length=buffer.context_size_batch.total()
            )
            encoded = encoded.transpose(1, 2)
            frames = buffer.context_size.subsample(factor=frame_samples)
            frames_batch = buffer.context_size_batch.subsample(factor=frame_samples)
            encoded = encoded[:, frames.left :]
            out_len = torch.where(is_last_batch, encoded_len - frames_batch.left, frames_batch.chunk)
            hyps, state = computer(
                x=encoded, out_len=out_len, prev_batched_state=state, multi_biasing_ids=biasing
            )
            parts.append(_hypothesis_tokens(hyps))
            chunks += 1
            if is_last:
                break
            want = chunking.chunk
    return StreamResult(tokens=Tokens.concat(parts), chunks=chunks, samples=samples)


def transcribe_batch(
    model: Any, signals: list[np.ndarray], biasing_ids: list[int] | None = None
) -> list[Tokens]:
    """One padded batch through the encoder and the batched label-looping TDT decoder.

    The encoder masks padding (the preprocessor normalises each signal over its own length; attention
    and convolutions see a pad mask), and the decoding computer stops each row at its own `out_len`,
    so a window's tokens do not depend on what it was batched with (tests check this against batch 1).
    `biasing_ids` (one per signal, -1: none) select each row's phrase-boosting tree (gpu_job.boosting):
    rows with different vocabularies share the batch. On CUDA the batch is copied from pinned memory
    without blocking the CPU thread."""
    from nemo.collections.asr.parts.utils.rnnt_utils import batched_hyps_to_hypotheses

    device = model.device
    lengths = [s.shape[0] for s in signals]
    batch = np.zeros((len(signals), max(lengths)), dtype=np.float32)
    for row, samples in zip(batch, signals, strict=True):
        row[: samples.shape[0]] = samples
    host = torch.from_numpy(batch)
    if device.type == "cuda":
        host = host.pin_memory()
    signal = host.to(device, non_blocking=True)
    length = torch.tensor(lengths, device=device)
    with torch.inference_mode():
        encoded, encoded_len = model(input_signal=signal, input_signal_length=length)
        hyps, _state = _decoding_computer(model)(
            x=encoded.transpose(1, 2),
            out_len=encoded_len,
            multi_biasing_ids=_biasing_ids(biasing_ids, device),
        )
        hypotheses = batched_hyps_to_hypotheses(hyps, batch_size=len(signals))
    return [Tokens.from_hypothesis(h) for h in hypotheses]
