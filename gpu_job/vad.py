"""Speech probabilities for 16 kHz audio with Silero VAD, fast enough to keep up with a batched GPU.

Why Silero: its model ships inside the `silero-vad` wheel (no download at run time), it needs only
torch (TorchScript; `onnxruntime` is optional and not used), and it tells speech from silence *and*
from noise, so neither reaches the ASR model. NeMo's own VAD models would have to be downloaded.

Why sections: Silero is a small recurrent model that reads 32 ms frames (512 samples) one after
another; called frame by frame on one stream it runs ~100x real time on a CPU core (measured here),
far too slow for a GPU that encodes thousands of seconds per second. The same TorchScript model
accepts a batch of frames, so a block of audio is cut into `section_frames`-long sections that run
as one batch in lock step (measured: batch 64 ~1,200x real time per core). Each section starts with
`warmup_frames` of the audio before it, whose outputs are thrown away, so the recurrent state has
settled by the first frame that counts. The first section of a stream warms up on zeros (silence),
which is what a stream that starts from nothing would have seen.

`SpeechDetector` is stateful per stream (it keeps the last warm-up samples across blocks) and not
thread-safe: each CPU worker builds its own (the model loads in ~50 ms).
"""

from __future__ import annotations

import numpy as np
import torch

SAMPLE_RATE = 16000
FRAME_SAMPLES = 512  # Silero's 16 kHz frame: 32 ms


def load_silero() -> torch.jit.ScriptModule:
    """Silero's TorchScript model from the wheel. Importing `silero_vad` calls `torch.set_num_threads(1)`
    as a side effect; the caller's thread setting is restored so importing it changes nothing else."""
    threads = torch.get_num_threads()
    try:
        from silero_vad import load_silero_vad
    finally:
        torch.set_num_threads(threads)
    model = load_silero_vad(onnx=False)
    torch.set_num_threads(threads)
    return model


class SpeechDetector:
    """Per-frame speech probabilities of one stream, fed block by block (any block length)."""

    def __init__(self, section_frames: int = 64, warmup_frames: int = 16, device: str = "cpu"):
        if section_frames < 1 or warmup_frames < 0:
            raise ValueError("section_frames must be >= 1 and warmup_frames >= 0")
        self.section_frames = section_frames
        self.warmup_frames = warmup_frames
        self.device = torch.device(device)
        self._model = load_silero().to(self.device)
        self._history = np.zeros(warmup_frames * FRAME_SAMPLES, dtype=np.float32)
        self._partial = np.zeros(0, dtype=np.float32)  # samples of an incomplete last frame

    def push(self, samples: np.ndarray, final: bool = False) -> np.ndarray:
        """Probabilities of every whole frame the stream now has; with `final`, the last partial frame
        is zero-padded and scored too (so the frames cover every sample)."""
        audio = np.concatenate([self._partial, np.asarray(samples, dtype=np.float32)])
        whole = audio.shape[0] // FRAME_SAMPLES
        if final and audio.shape[0] % FRAME_SAMPLES:
            whole += 1
            audio = np.pad(audio, (0, whole * FRAME_SAMPLES - audio.shape[0]))
        used = audio[: whole * FRAME_SAMPLES]
        self._partial = audio[whole * FRAME_SAMPLES :].copy()
        if whole == 0:
            return np.zeros(0, dtype=np.float32)
        probs = self._score(used, whole)
        keep = self.warmup_frames * FRAME_SAMPLES
        if keep:
            self._history = np.concatenate([self._history, used])[-keep:]
        return probs

    def _score(self, used: np.ndarray, frames: int) -> np.ndarray:
        sections = -(-frames // self.section_frames)
        warm, span = self.warmup_frames, self.section_frames
        total = (warm + span) * FRAME_SAMPLES
        # [history | used | zero tail] so that every section can take its warm-up from just before it.
        padded = np.concatenate(
            [self._history, used, np.zeros(sections * span * FRAME_SAMPLES - used.shape[0], np.float32)]
        )
        starts = np.arange(sections) * span * FRAME_SAMPLES
        batch = np.stack([padded[s : s + total] for s in starts])
        x = torch.from_numpy(batch).to(self.device)
        out = torch.empty(sections, warm + span, device=self.device)
        self._model.reset_states()
        with torch.inference_mode():
            for t in range(warm + span):
                frame = x[:, t * FRAME_SAMPLES : (t + 1) * FRAME_SAMPLES]
                out[:, t] = self._model(frame, SAMPLE_RATE)[:, 0].float()
        return out[:, warm:].cpu().reshape(-1)[:frames].numpy().astype(np.float32)
