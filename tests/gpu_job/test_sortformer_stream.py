"""Specification: Sortformer hears a file as it is decoded, block by block, exactly as NeMo's whole-file
streaming loop would have fed it (gpu_job.diarization.SortformerStream).

The weights cannot be downloaded here, so the model's own step is replaced by a recorder; everything
else is NeMo's: the real mel preprocessor (128 features, no per-file normalisation, as the streaming
Sortformer models are configured) and the chunk arithmetic of ``SortformerModules.streaming_feat_loader``.
The stream must hand the step the same chunks, with the same left and right offsets, as that loader
does on the whole file's features; a margin or offset error would change the features at a block edge.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from nemo.collections.asr.modules import AudioToMelSpectrogramPreprocessor
from nemo.collections.asr.modules.sortformer_modules import SortformerModules

from gpu_job.diarization import SortformerDiarizer, SortformerStream

SUB, CHUNK, LEFT, RIGHT = 8, 124, 1, 1


class RecordingModel:
    """Sortformer's interface with the step replaced: each chunk is recorded, its speaker 0 is 'active'."""

    def __init__(self) -> None:
        self.preprocessor = AudioToMelSpectrogramPreprocessor(
            sample_rate=16000, features=128, normalize="NA", window_size=0.025, window_stride=0.01, n_fft=512
        )
        self.preprocessor.eval()
        self.sortformer_modules = SimpleNamespace(
            subsampling_factor=SUB,
            chunk_len=CHUNK,
            chunk_left_context=LEFT,
            chunk_right_context=RIGHT,
            n_spk=4,
            log=False,
            init_streaming_state=lambda **_: None,
        )
        self.device = torch.device("cpu")
        self.async_streaming = False
        self.steps: list[tuple[torch.Tensor, int, int]] = []

    def forward_streaming_step(
        self,
        processed_signal: Any,
        processed_signal_length: Any,
        streaming_state: Any,
        total_preds: Any,
        left_offset: int,
        right_offset: int,
    ) -> Any:
        assert processed_signal_length.item() == processed_signal.shape[1]
        self.steps.append((processed_signal[0].T.clone(), left_offset, right_offset))
        core = -(-(processed_signal.shape[1] - left_offset - right_offset) // SUB)
        preds = torch.zeros((1, core, 4))
        preds[0, :, 0] = 1.0
        return streaming_state, torch.cat([total_preds, preds], dim=1)


def whole_file_chunks(model: RecordingModel, signal: np.ndarray) -> list[tuple[torch.Tensor, int, int]]:
    """NeMo's loop: the whole file's features, cut by streaming_feat_loader."""
    x = torch.from_numpy(signal)[None, :]
    feats, length = model.preprocessor(input_signal=x, length=torch.tensor([x.shape[1]]))
    feats = feats[:, :, : int(length.max())]
    loader = SortformerModules.streaming_feat_loader(
        model.sortformer_modules, feats, length, torch.zeros(1, dtype=torch.long)
    )
    return [(chunk[0].T, left, right) for _, chunk, _, left, right in loader]


@pytest.mark.parametrize("block", [1601, 16000 * 3 + 7, 16000 * 60])
def test_block_by_block_the_step_gets_the_whole_files_chunks(block: int) -> None:
    # Given 47 s of noisy tones (five 9.92 s chunks), pushed in blocks of an odd size
    rng = np.random.default_rng(0)
    t = np.arange(int(47.3 * 16000)) / 16000
    signal = 0.3 * np.sin(2 * np.pi * 220 * t * (1 + 0.1 * np.sin(t))) + 0.05 * rng.standard_normal(t.size)
    signal = signal.astype(np.float32)
    model = RecordingModel()
    stream = SortformerStream(model, max_speakers=2, frame_s=0.08)
    # When the stream is fed and finished
    with torch.inference_mode():
        for at in range(0, signal.size, block):
            stream.push(signal[at : at + block])
        turns = stream.finish()
        expected = whole_file_chunks(model, signal)
    # Then every chunk, with its offsets, is the one NeMo's loader cuts from the whole file
    assert [(c.shape, left, right) for c, left, right in model.steps] == [
        (c.shape, left, right) for c, left, right in expected
    ]
    for (got, _, _), (want, _, _) in zip(model.steps, expected, strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    # And the recorded activity becomes one turn of speaker 0 over the file
    assert [t.speaker for t in turns] == [0]
    assert turns[0].start == 0.0 and abs(turns[0].end - 47.3) < 0.2


def test_a_model_with_per_file_normalisation_is_diarized_whole() -> None:
    # Given a preprocessor that normalises per file (its features depend on the whole signal)
    model = RecordingModel()
    model.preprocessor.featurizer.normalize = "per_feature"
    # Then the diarizer does not stream it block by block
    stream = SortformerDiarizer(model, "x").stream(2)
    assert not isinstance(stream, SortformerStream)


def test_an_empty_file_has_no_turns() -> None:
    assert SortformerStream(RecordingModel(), 2, 0.08).finish() == []


def test_with_nemos_own_step_the_stream_predicts_what_the_whole_file_forward_does() -> None:
    # Given a small random Sortformer (NeMo's real modules, streaming step and speaker cache)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from random_sortformer import random_sortformer

    model = random_sortformer()
    diarizer = SortformerDiarizer.load_model(model, "random")
    rng = np.random.default_rng(3)
    signal = (0.1 * rng.standard_normal(int(31.7 * 16000))).astype(np.float32)
    # When the file is streamed in odd blocks, and separately run through NeMo's whole-file forward
    stream = diarizer.stream(4)
    assert isinstance(stream, SortformerStream)
    with torch.inference_mode():
        for at in range(0, signal.size, 12345):
            stream.push(signal[at : at + 12345])
        stream.finish()
        whole = model.forward(
            audio_signal=torch.from_numpy(signal)[None, :], audio_signal_length=torch.tensor([signal.size])
        )
    # Then the per-frame speaker probabilities agree
    assert stream.preds.shape == whole.shape
    torch.testing.assert_close(stream.preds, whole, atol=1e-4, rtol=1e-3)
