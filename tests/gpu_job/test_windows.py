"""Cutting a stream into windows at pauses (gpu_job.engine.windows), specified on synthetic VAD probabilities.

The audio is a ramp (sample value = its global index), so every window's samples tell exactly where
in the stream they came from; the probabilities say where "speech" is (1.0) and where the pauses are.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gpu_job.engine.vad import FRAME_SAMPLES, SAMPLE_RATE
from gpu_job.engine.windows import CutSettings, Window, WindowCutter

FPS = SAMPLE_RATE / FRAME_SAMPLES  # VAD frames per second (31.25)


def probs_for(total_s: float, speech: list[tuple[float, float]], dips: list[float] = ()) -> np.ndarray:
    """1.0 inside the speech spans, 0.0 elsewhere; a `dip` is one 0.2-probability frame (a short breath)."""
    p = np.zeros(int(total_s * FPS), dtype=np.float32)
    for a, b in speech:
        p[int(a * FPS) : int(b * FPS)] = 1.0
    for d in dips:
        p[int(d * FPS)] = 0.2
    return p


def cut(
    probs: np.ndarray, settings: CutSettings, block_frames: int = 1000
) -> tuple[list[Window], WindowCutter]:
    ramp = np.arange(probs.shape[0] * FRAME_SAMPLES, dtype=np.float64).astype(np.float32)
    cutter = WindowCutter(settings)
    out: list[Window] = []
    for f in range(0, probs.shape[0], block_frames):
        block = slice(f * FRAME_SAMPLES, (f + block_frames) * FRAME_SAMPLES)
        out += cutter.push(ramp[block], probs[f : f + block_frames])
    out += cutter.finish()
    return out, cutter


def spans(windows: list[Window]) -> list[tuple[float, float]]:
    return [(w.start_s, w.start_s + w.seconds) for w in windows]


def test_a_pause_longer_than_max_gap_closes_the_window_and_the_silence_is_left_out() -> None:
    # Given speech at 1-4 s and 7-9 s (a 3 s pause) and max_gap 1 s
    settings = CutSettings(max_window_s=30, max_gap_s=1.0, pad_s=0.2)
    windows, cutter = cut(probs_for(12, [(1, 4), (7, 9)]), settings)
    # Then two windows, each its speech plus 0.2 s padding: the 3 s pause never reaches the model
    assert spans(windows) == [pytest.approx((0.8, 4.2), abs=0.04), pytest.approx((6.8, 9.2), abs=0.04)]
    assert cutter.speech_samples == sum(w.samples.shape[0] for w in windows)
    # and each window holds the stream's own samples from its global start (timestamps can be global)
    for w in windows:
        assert w.samples[0] == w.start and w.samples[-1] == w.start + w.samples.shape[0] - 1


def test_a_short_pause_stays_inside_one_window() -> None:
    windows, _ = cut(probs_for(12, [(1, 4), (4.5, 9)]), CutSettings(max_window_s=30, max_gap_s=1.0))
    assert len(windows) == 1
    assert windows[0].start_s == pytest.approx(0.8, abs=0.04)


def test_long_speech_is_cut_at_its_most_pause_like_moments_and_windows_tile_it() -> None:
    # Given 70 s of uninterrupted speech with a one-frame dip (a breath) every 4 s
    dips = [4.0 * k + 0.5 for k in range(1, 18)]
    windows, _ = cut(probs_for(72, [(1, 71)], dips), CutSettings(max_window_s=20, pad_s=0.2))
    # Then no window is longer than the maximum
    assert len(windows) >= 4
    assert all(w.seconds <= 20.0 for w in windows)
    # and every cut between two windows is exactly at a dip, never inside the "words" between dips
    for left, right in itertools.pairwise(windows):
        boundary = left.start + left.samples.shape[0]
        assert boundary == right.start, "forced cuts leave no gap and no overlap"
        assert min(abs(boundary / SAMPLE_RATE - d) for d in dips) < 1.5 / FPS
    # and together they cover the speech from start to end
    assert windows[0].start_s == pytest.approx(0.8, abs=0.04)
    assert windows[-1].start_s + windows[-1].seconds == pytest.approx(71.2, abs=0.04)


def test_silence_and_short_blips_give_no_window() -> None:
    # Given a minute of silence with two 0.1 s noise blips (shorter than min_speech 0.25 s)
    windows, cutter = cut(probs_for(60, [(10, 10.1), (30, 30.1)]), CutSettings())
    assert windows == []
    assert cutter.speech_samples == 0


def test_block_boundaries_do_not_change_the_windows() -> None:
    probs = probs_for(100, [(1, 4), (4.4, 33), (36, 37)], dips=[12.3, 20.1, 27.7])
    settings = CutSettings(max_window_s=15)
    reference, _ = cut(probs, settings, block_frames=10_000)
    for block_frames in (1, 7, 64, 313):
        windows, _ = cut(probs, settings, block_frames=block_frames)
        assert spans(windows) == spans(reference), block_frames


def test_memory_held_is_bounded_by_the_window_not_the_stream() -> None:
    # Given ten minutes of speech bursts with pauses, pushed in 1 s blocks
    bursts = [(5.0 * k + 1, 5.0 * k + 3) for k in range(120)]
    probs = probs_for(600, bursts)
    ramp = np.zeros(probs.shape[0] * FRAME_SAMPLES, dtype=np.float32)
    cutter = WindowCutter(CutSettings(max_window_s=10))
    held = []
    step = int(FPS)
    for f in range(0, probs.shape[0], step):
        cutter.push(ramp[f * FRAME_SAMPLES : (f + step) * FRAME_SAMPLES], probs[f : f + step])
        held.append(cutter.held_samples)
    # Then it never holds more than one window plus a block
    assert max(held) <= (10 + 1) * SAMPLE_RATE
