"""Cut a stream into speech windows at pauses, from VAD probabilities, block by block.

Why our own cutter rather than Silero's `get_speech_timestamps`: that function needs the whole file's
probabilities (and the caller the whole file's samples) before it returns anything. Here a window
leaves as soon as it is closed, so a 10-hour file never sits in memory and the GPU can start on the
first minutes while the rest is still downloading. The rules are Silero's (hysteresis thresholds,
minimum silence, minimum speech, padding), plus the window packing the batched encoder needs:

- Speech starts at a frame with p >= `threshold` and ends after `min_silence_s` of frames with
  p < `neg_threshold` (Silero's defaults: 0.5 and threshold - 0.15).
- Speech separated by pauses up to `max_gap_s` shares a window (the model keeps the context and the
  short pause); a longer pause closes the window, so long silence never reaches the model.
- A window never exceeds `max_window_s`. When speech runs on that long, it is cut at the frame of
  lowest speech probability in the window's second half: the most pause-like moment, i.e. between
  words, never inside one while the VAD hears a dip anywhere there.
- A window with less than `min_speech_s` of speech (a click, a cough of noise) is dropped.
- Closed windows get `pad_s` of audio on each side, never overlapping a neighbour, so the edges of
  the first and last words are not clipped; a forced cut (no pause) gets no padding across it.

Windows carry their global start sample, so the merged words get global timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_job.engine.vad import FRAME_SAMPLES, SAMPLE_RATE


@dataclass(frozen=True)
class CutSettings:
    max_window_s: float = 20.0
    max_gap_s: float = 1.0
    min_silence_s: float = 0.3
    min_speech_s: float = 0.25
    pad_s: float = 0.2
    threshold: float = 0.5
    neg_threshold: float | None = None  # default threshold - 0.15, as Silero

    def frames(self, seconds: float) -> int:
        return max(1, round(seconds * SAMPLE_RATE / FRAME_SAMPLES))


@dataclass
class Window:
    """`samples` of one stream starting at global sample `start` (16 kHz)."""

    start: int
    samples: np.ndarray

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def seconds(self) -> float:
        return self.samples.shape[0] / SAMPLE_RATE


class WindowCutter:
    """Feed `push(samples, probs)` in stream order (one probability per 512-sample frame, as
    gpu_job.engine.vad gives them), then `finish()`. Each returns the windows closed so far."""

    def __init__(self, settings: CutSettings | None = None):
        self.s = settings or CutSettings()
        neg = self.s.neg_threshold
        self._neg = neg if neg is not None else max(self.s.threshold - 0.15, 0.01)
        # padding on both sides counts towards the window's length
        self._max_frames = self.s.frames(self.s.max_window_s - 2 * self.s.pad_s)
        self._gap_frames = self.s.frames(self.s.max_gap_s)
        self._min_sil = self.s.frames(self.s.min_silence_s)
        self._min_speech = self.s.frames(self.s.min_speech_s)
        self._pad = int(self.s.pad_s * SAMPLE_RATE)
        # audio kept from global sample `_buf_start`; probabilities of the open window from `_win`
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_start = 0
        self._frame = 0  # global index of the next frame
        self._probs: list[float] = []
        self._win: int | None = None  # first frame of the open window
        self._win_from_cut = False  # the open window starts at a forced cut (no padding before it)
        self._speech_end = 0  # frame after the last speech frame of the open window
        self._speech_frames = 0
        self._in_speech = False
        self._silent_run = 0
        self._last_end = 0  # global sample where the previous window ended
        self.speech_samples = 0  # audio handed out in windows

    @property
    def held_samples(self) -> int:
        """Audio the cutter holds now: at most the open window plus padding, whatever the stream's length."""
        return int(self._buf.shape[0])

    # ---------------------------------------------------------------- feeding
    def push(self, samples: np.ndarray, probs: np.ndarray) -> list[Window]:
        self._buf = np.concatenate([self._buf, np.asarray(samples, dtype=np.float32)])
        out: list[Window] = []
        for p in np.asarray(probs, dtype=np.float64).tolist():
            self._step(p, out)
        self._trim()
        return out

    def finish(self) -> list[Window]:
        out: list[Window] = []
        if self._win is not None:
            end = self._frame if self._in_speech else self._speech_end
            self._close(end, out, forced=False)
        self._buf = np.zeros(0, dtype=np.float32)
        return out

    # ---------------------------------------------------------------- state machine
    def _step(self, p: float, out: list[Window]) -> None:
        f = self._frame
        if self._win is not None:
            self._probs.append(p)
        if not self._in_speech:
            if p >= self.s.threshold:
                if self._win is None:
                    self._open(f, p, from_cut=False)
                self._in_speech = True
                self._silent_run = 0
        elif p < self._neg:
            self._silent_run += 1
            if self._silent_run >= self._min_sil:
                self._in_speech = False
                self._speech_end = f + 1 - self._silent_run
        else:
            self._silent_run = 0
        if p >= self.s.threshold:
            self._speech_frames += 1
        self._frame = f + 1
        if self._win is None:
            return
        if not self._in_speech and self._frame - self._speech_end > self._gap_frames:
            self._close(self._speech_end, out, forced=False)
        elif self._frame - self._win >= self._max_frames:
            if self._in_speech:
                self._split(out)
            else:  # full during a short pause: end it at the pause, as a long pause would
                self._close(self._speech_end, out, forced=False)

    def _open(self, frame: int, p: float, from_cut: bool) -> None:
        self._win = frame
        self._win_from_cut = from_cut
        self._probs = [p]
        self._speech_frames = 0
        self._speech_end = frame

    def _split(self, out: list[Window]) -> None:
        """The window is full while speech goes on: cut at the least speech-like frame of its second half."""
        assert self._win is not None
        half = len(self._probs) // 2
        cut_at = half + int(np.argmin(self._probs[half:]))
        cut = self._win + cut_at
        rest = self._probs[cut_at:]
        speech_end = self._speech_end
        self._close(cut, out, forced=True)
        self._open(cut, rest[0], from_cut=True)
        self._probs = rest
        self._speech_frames = sum(q >= self.s.threshold for q in rest)
        self._speech_end = max(speech_end, cut)

    def _close(self, end_frame: int, out: list[Window], forced: bool) -> None:
        assert self._win is not None
        start = self._win * FRAME_SAMPLES - (0 if self._win_from_cut else self._pad)
        start = max(start, self._last_end, 0)
        end = end_frame * FRAME_SAMPLES + (0 if forced else self._pad)
        end = min(end, self._buf_start + self._buf.shape[0])
        if self._speech_frames >= self._min_speech and end > start:
            samples = self._buf[start - self._buf_start : end - self._buf_start].copy()
            out.append(Window(start=start, samples=samples))
            self.speech_samples += samples.shape[0]
            self._last_end = end
        self._win = None
        self._probs = []
        self._speech_frames = 0

    def _trim(self) -> None:
        """Keep only audio a future window can still need: from the open window's start (minus padding),
        or the last `pad_s` when no window is open."""
        if self._win is not None:
            keep_from = self._win * FRAME_SAMPLES - self._pad
        else:
            keep_from = self._frame * FRAME_SAMPLES - self._pad
        keep_from = max(keep_from, self._last_end, self._buf_start)
        drop = keep_from - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start = keep_from
