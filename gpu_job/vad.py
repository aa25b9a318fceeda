"""Speech probabilities for 16 kHz audio with Silero VAD, fast enough to keep up with a batched GPU.

Why Silero: its models ship inside the `silero-vad` wheel (no download at run time) and tell speech
from silence *and* from noise, so neither reaches the ASR model. NeMo's own VAD models would have to
be downloaded.

Why not Silero's usual entry point: the streaming model reads 32 ms frames (512 samples) one Python
call at a time, ~100x real time on a CPU core (measured here), far too slow for a GPU that encodes
thousands of audio seconds per second. Two faster ways to run the same network, both streaming
(block by block, state carried across blocks):

- `onnx` (default): Silero's "sequence" ONNX model (`silero_vad_16k_sequence.onnx`, the wheel's
  `SileroVADSequence`): one ONNX Runtime call per block of up to 512 frames, bit-exact with the
  frame-by-frame model, and it spends its time in GIL-free kernels, so CPU worker threads run it in
  parallel with the GPU thread. Measured here: ~500-600x real time per thread, 6x faster than the
  sectioned model on a 12 s file.
- `torch`: the TorchScript model on a batch of sections run in lock step (each section warmed up on
  `warmup_frames` of the audio before it, whose outputs are discarded). Not exact (~1% of frames
  fall on the other side of 0.5, borderline frames), but it runs on any torch device, e.g. the GPU.

Detectors are stateful per stream and not thread-safe: each CPU worker makes its own per item.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

SAMPLE_RATE = 16000
FRAME_SAMPLES = 512  # Silero's 16 kHz frame: 32 ms
CONTEXT_SAMPLES = 64  # each frame is scored with the 64 samples before it (Silero's context)
SEQUENCE_MAX_FRAMES = 512


def _import_silero() -> Any:
    """Importing `silero_vad` calls `torch.set_num_threads(1)`; restore the caller's setting."""
    threads = torch.get_num_threads()
    try:
        import silero_vad
    finally:
        torch.set_num_threads(threads)
    return silero_vad


class _Framed:
    """Turns pushed blocks of any length into whole 512-sample frames for `_score`."""

    def __init__(self) -> None:
        self._partial = np.zeros(0, dtype=np.float32)

    def push(self, samples: np.ndarray, final: bool = False) -> np.ndarray:
        """Probabilities of every whole frame the stream now has; with `final`, the last partial frame
        is zero-padded and scored too (so the frames cover every sample)."""
        audio = np.concatenate([self._partial, np.asarray(samples, dtype=np.float32)])
        whole = audio.shape[0] // FRAME_SAMPLES
        if final and audio.shape[0] % FRAME_SAMPLES:
            whole += 1
            audio = np.pad(audio, (0, whole * FRAME_SAMPLES - audio.shape[0]))
        self._partial = audio[whole * FRAME_SAMPLES :].copy()
        if whole == 0:
            return np.zeros(0, dtype=np.float32)
        return self._score(audio[: whole * FRAME_SAMPLES], whole)

    def _score(self, used: np.ndarray, frames: int) -> np.ndarray:
        raise NotImplementedError


class SequenceDetector(_Framed):
    """Silero's sequence ONNX model, LSTM state and frame context carried from block to block."""

    def __init__(self) -> None:
        super().__init__()
        model = _import_silero().load_silero_vad(sequence=True, max_frames=SEQUENCE_MAX_FRAMES)
        self._session = model.session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)

    def _score(self, used: np.ndarray, frames: int) -> np.ndarray:
        grid = used.reshape(frames, FRAME_SAMPLES)
        contexts = np.empty((frames, CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = grid[:-1, -CONTEXT_SAMPLES:]
        self._context = grid[-1, -CONTEXT_SAMPLES:].copy()
        rows = np.concatenate([contexts, grid], axis=1)
        out = []
        for first in range(0, frames, SEQUENCE_MAX_FRAMES):
            probs, self._h, self._c = self._session.run(
                ["speech_probs", "hn", "cn"],
                {"input": rows[first : first + SEQUENCE_MAX_FRAMES], "h": self._h, "c": self._c},
            )
            out.append(np.asarray(probs, dtype=np.float32).reshape(-1))
        return np.concatenate(out)


class SectionedDetector(_Framed):
    """The TorchScript model on sections of a block run as one batch (see the module docstring)."""

    def __init__(self, section_frames: int = 64, warmup_frames: int = 16, device: str = "cpu"):
        if section_frames < 1 or warmup_frames < 0:
            raise ValueError("section_frames must be >= 1 and warmup_frames >= 0")
        super().__init__()
        self.section_frames = section_frames
        self.warmup_frames = warmup_frames
        self.device = torch.device(device)
        threads = torch.get_num_threads()
        self._model = _import_silero().load_silero_vad(onnx=False).to(self.device)
        torch.set_num_threads(threads)
        self._history = np.zeros(warmup_frames * FRAME_SAMPLES, dtype=np.float32)

    def _score(self, used: np.ndarray, frames: int) -> np.ndarray:
        sections = -(-frames // self.section_frames)
        warm, span = self.warmup_frames, self.section_frames
        total = (warm + span) * FRAME_SAMPLES
        # [history | used | zero tail] so that every section can take its warm-up from just before it.
        tail = np.zeros(sections * span * FRAME_SAMPLES - used.shape[0], np.float32)
        padded = np.concatenate([self._history, used, tail])
        if warm:
            self._history = np.concatenate([self._history, used])[-warm * FRAME_SAMPLES :]
        starts = np.arange(sections) * span * FRAME_SAMPLES
        x = torch.from_numpy(np.stack([padded[s : s + total] for s in starts])).to(self.device)
        out = torch.empty(sections, warm + span, device=self.device)
        self._model.reset_states()
        with torch.inference_mode():
            for t in range(warm + span):
                frame = x[:, t * FRAME_SAMPLES : (t + 1) * FRAME_SAMPLES]
                out[:, t] = self._model(frame, SAMPLE_RATE)[:, 0].float()
        return out[:, warm:].cpu().reshape(-1)[:frames].numpy().astype(np.float32)


def make_detector(backend: str = "onnx", device: str = "cpu") -> _Framed:
    if backend == "onnx":
        return SequenceDetector()
    if backend == "torch":
        return SectionedDetector(device=device)
    raise ValueError(f"unknown VAD backend {backend!r}; expected onnx or torch")
