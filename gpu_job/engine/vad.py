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
- `batched`: the same sections, but the sections of every stream the engine's workers have in
  flight go to the device as one batch (gpu_job.engine.device_front): what a GPU host runs, so no VAD is
  left on its CPU (docs/CPU_STAGE.md).

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


def load_torch_model(device: torch.device) -> Any:
    """Silero's TorchScript model on `device` (any torch device: CPU or CUDA)."""
    threads = torch.get_num_threads()
    model = _import_silero().load_silero_vad(onnx=False).to(device)
    torch.set_num_threads(threads)
    return model


class Sections:
    """Cuts one stream's blocks into sections of `section_frames` frames, each preceded by the
    `warmup_frames` of audio before it (carried across blocks), for `score_sections`."""

    def __init__(self, section_frames: int = 64, warmup_frames: int = 16):
        if section_frames < 1 or warmup_frames < 0:
            raise ValueError("section_frames must be >= 1 and warmup_frames >= 0")
        self.section_frames = section_frames
        self.warmup_frames = warmup_frames
        self._history = np.zeros(warmup_frames * FRAME_SAMPLES, dtype=np.float32)

    def cut(self, used: np.ndarray, frames: int) -> np.ndarray:
        """(sections, (warmup + section) x 512) float32 rows; score them, then `probs(out, frames)`."""
        sections = -(-frames // self.section_frames)
        warm, span = self.warmup_frames, self.section_frames
        total = (warm + span) * FRAME_SAMPLES
        # [history | used | zero tail] so that every section can take its warm-up from just before it.
        tail = np.zeros(sections * span * FRAME_SAMPLES - used.shape[0], np.float32)
        padded = np.concatenate([self._history, used, tail])
        if warm:
            self._history = np.concatenate([self._history, used])[-warm * FRAME_SAMPLES :]
        starts = np.arange(sections) * span * FRAME_SAMPLES
        return np.stack([padded[s : s + total] for s in starts])

    def probs(self, scored: np.ndarray, frames: int) -> np.ndarray:
        """The block's probabilities from `score_sections`' rows (warm-up outputs dropped)."""
        return scored[:, self.warmup_frames :].reshape(-1)[:frames].astype(np.float32)


def score_sections(model: Any, rows: torch.Tensor) -> torch.Tensor:
    """Silero run in lock step over a batch of sections ((rows, frames x 512) on the model's device):
    one LSTM step per frame for all rows at once. Rows are independent, so sections of many streams
    (gpu_job.engine.device_front) share one batch. Returns (rows, frames) probabilities on that device."""
    frames = rows.shape[1] // FRAME_SAMPLES
    out = torch.empty(rows.shape[0], frames, device=rows.device)
    model.reset_states()
    with torch.inference_mode():
        for t in range(frames):
            out[:, t] = model(rows[:, t * FRAME_SAMPLES : (t + 1) * FRAME_SAMPLES], SAMPLE_RATE)[:, 0].float()
    return out


class SectionedDetector(_Framed):
    """The TorchScript model on sections of a block run as one batch (see the module docstring)."""

    def __init__(self, section_frames: int = 64, warmup_frames: int = 16, device: str = "cpu"):
        super().__init__()
        self._sections = Sections(section_frames, warmup_frames)
        self.device = torch.device(device)
        self._model = load_torch_model(self.device)

    def _score(self, used: np.ndarray, frames: int) -> np.ndarray:
        rows = torch.from_numpy(self._sections.cut(used, frames)).to(self.device)
        return self._sections.probs(score_sections(self._model, rows).cpu().numpy(), frames)


def make_detector(backend: str = "onnx", device: str = "cpu") -> _Framed:
    """One stream's detector. `auto` is `onnx` (exact, CPU); `batched` outside the engine (no front
    end to batch with, e.g. the per-file modes) is the `torch` detector: the same numerics, alone."""
    if backend in ("onnx", "auto"):
        return SequenceDetector()
    if backend in ("torch", "batched"):
        return SectionedDetector(device=device)
    raise ValueError(f"unknown VAD backend {backend!r}; expected auto, onnx, torch or batched")
