"""Silero VAD block by block: offline, streaming, and in agreement with Silero's own way."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from gpu_job.engine.vad import FRAME_SAMPLES, make_detector
from tests.gpu_job import accuracy_support as acc


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Held-out corpus speech with pauses, 16 kHz float32 (about a minute)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng makes the speech")
    return acc.long_split_minute()


def stream(backend: str, audio: np.ndarray, block: int) -> np.ndarray:
    detector = make_detector(backend)
    probs = [detector.push(audio[i : i + block]) for i in range(0, audio.shape[0], block)]
    probs.append(detector.push(np.zeros(0, np.float32), final=True))
    return np.concatenate(probs)


def test_the_onnx_detector_streamed_in_odd_blocks_equals_silero_on_the_whole_signal(speech) -> None:
    # Given Silero's own sequence model on the whole signal at once (its documented use)
    silero = acc_silero_sequence_probs(speech)
    # When our detector gets the same audio in blocks that do not line up with frames
    probs = stream("onnx", speech, block=16000 * 3 + 123)
    # Then the probabilities are the same, one per 32 ms frame, covering every sample
    assert probs.shape[0] == -(-speech.shape[0] // FRAME_SAMPLES) == silero.shape[0]
    np.testing.assert_allclose(probs, silero, atol=1e-5)
    # and the recording really has speech and pauses
    assert 0.2 < float((probs >= 0.5).mean()) < 0.9


def acc_silero_sequence_probs(audio: np.ndarray) -> np.ndarray:
    from silero_vad import load_silero_vad

    return load_silero_vad(sequence=True).audio_forward(audio)


def test_the_sectioned_torch_detector_agrees_with_the_exact_one_on_almost_every_frame(speech) -> None:
    exact = stream("onnx", speech, block=16000 * 60)
    sectioned = stream("torch", speech, block=16000 * 60)
    assert sectioned.shape == exact.shape
    assert float(((sectioned >= 0.5) != (exact >= 0.5)).mean()) < 0.03


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError):
        make_detector("webrtc")
