"""The three inference modes run through the real NeMo code with the tiny random FastConformer-TDT.

The random model's words are gibberish, so these tests check structure and timing properties, not text.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from gpu_job import api
from gpu_job.engine import inference
from gpu_job.engine.tokens import frame_seconds

MODES = ["full", "local_attention", "streaming"]


@pytest.fixture(scope="module")
def short_media(make_media):
    return make_media("short.mp3", 45.0, "-c:a", "libmp3lame", "-b:a", "64k", channels=2, rate=44100)


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_produces_a_valid_document(tiny_model, transcript_validator, short_media, mode) -> None:
    # Given a 45 s stereo MP3, When transcribed in <mode>
    doc = api.transcribe(str(short_media), tiny_model, mode=mode)
    # Then the document follows the schema and says how it was made
    transcript_validator(doc)
    assert doc["mode"] == mode
    assert doc["media"]["duration_s"] == pytest.approx(45.0, abs=0.1)
    assert doc["media"]["channels"] == 2 and doc["media"]["sample_rate"] == 44100
    assert (doc["chunking"] is not None) == (mode == "streaming")
    assert doc["words"], "the random model emits tokens on tone+noise input"
    assert doc["text"] == " ".join(s["text"] for s in doc["segments"])
    assert [w for s in doc["segments"] for w in s["words"]] == doc["words"]
    assert all(0 <= w["start"] <= w["end"] <= doc["media"]["duration_s"] for w in doc["words"])
    assert doc["hardware"] == {"device": "cpu", "gpu": None, "dtype": "float32"}


def test_local_attention_switches_the_encoder_and_full_switches_it_back(tiny_model, short_media) -> None:
    api.transcribe(str(short_media), tiny_model, mode="local_attention")
    assert tiny_model.encoder.self_attention_model == "rel_pos_local_attn"
    assert list(tiny_model.encoder.att_context_size) == [128, 128]
    api.transcribe(str(short_media), tiny_model, mode="full")
    assert tiny_model.encoder.self_attention_model == "rel_pos"
    assert list(tiny_model.encoder.att_context_size) == [-1, -1]


def test_auto_mode_is_the_batched_engine_for_every_length_by_default(tiny_model, short_media) -> None:
    assert api.transcribe(str(short_media), tiny_model, mode="auto")["mode"] == "batched"


def test_auto_mode_follows_the_duration_thresholds(tiny_model, short_media, monkeypatch) -> None:
    # Given the batched engine limited to files of at most 30 s (BATCHED_MAX_S below the hard limit)
    monkeypatch.setenv("BATCHED_MAX_S", "30")
    monkeypatch.setenv("FULL_MAX_S", "30")
    monkeypatch.setenv("LOCAL_ATTENTION_MAX_S", "40")
    assert api.transcribe(str(short_media), tiny_model, mode="auto")["mode"] == "streaming"
    monkeypatch.setenv("LOCAL_ATTENTION_MAX_S", "60")
    assert api.transcribe(str(short_media), tiny_model, mode="auto")["mode"] == "local_attention"
    monkeypatch.setenv("BATCHED_MAX_S", "60")
    assert api.transcribe(str(short_media), tiny_model, mode="auto")["mode"] == "batched"


def test_a_single_chunk_stream_decodes_exactly_like_full_mode(tiny_model, short_media) -> None:
    # Given a chunk longer than the audio, the one window has no left context and is the last one,
    # so streaming must decode the same frames with the same decoder state as full attention.
    full = api.transcribe(str(short_media), tiny_model, mode="full")
    one_chunk = api.transcribe(str(short_media), tiny_model, mode="streaming", chunk_s=60.0, right_s=0.0)
    assert one_chunk["chunking"]["chunks"] == 1
    assert one_chunk["words"] == full["words"]


class StreamSpy:
    """Records the raw token stream (before any normalisation) that api.transcribe gets."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.results: list[inference.StreamResult] = []
        real = inference.transcribe_stream

        def spy(*args: Any, **kwargs: Any) -> inference.StreamResult:
            result = real(*args, **kwargs)
            self.results.append(result)
            return result

        monkeypatch.setattr(api, "transcribe_stream", spy)


def test_the_final_chunk_decodes_its_true_remaining_length(tiny_model, short_media, monkeypatch) -> None:
    # Given 45 s with 20 s chunks: windows end at 23 s, 43 s and the 2 s tail is the last chunk's
    spy = StreamSpy(monkeypatch)
    doc = api.transcribe(str(short_media), tiny_model, mode="streaming")
    frames = spy.results[0].tokens.frames
    assert doc["chunking"]["chunks"] == 3
    # Then tokens reach into the last 5 s (chunk 3 covers 40-45 s), and none lie past the audio
    seconds = frames.float() * frame_seconds(tiny_model)
    assert float(seconds.max()) >= 40.0
    assert float(seconds.max()) < doc["media"]["duration_s"]


@pytest.mark.slow
def test_ten_minute_stream_has_monotonic_in_range_timestamps_covering_every_chunk(
    tiny_model, make_media, transcript_validator, monkeypatch
) -> None:
    # Given a 10-minute input, When transcribed in streaming mode with the default 20/5/3 s chunking
    media = make_media("ten_minutes.flac", 600.0, "-c:a", "flac")
    spy = StreamSpy(monkeypatch)
    doc = api.transcribe(str(media), tiny_model, mode="streaming")
    transcript_validator(doc)
    duration = doc["media"]["duration_s"]
    assert duration == pytest.approx(600.0, abs=0.05)
    assert doc["chunking"]["chunk_s"] == 20.0 and doc["chunking"]["chunks"] == 30

    # Then the raw token times (global encoder frames, before any clamping) never go back and stay within
    raw = spy.results[0].tokens.frames.tolist()
    assert raw == sorted(raw)
    frame_s = frame_seconds(tiny_model)
    assert raw[0] >= 0 and raw[-1] * frame_s < duration
    # and every 20 s chunk contributed tokens, at that chunk's place in the file
    per_chunk = {math.floor(f * frame_s / 20.0) for f in raw}
    assert per_chunk == set(range(30))

    # and the document's words are monotonic, within [0, duration], and cover every chunk too
    starts = [w["start"] for w in doc["words"]]
    assert starts == sorted(starts)
    assert all(0 <= w["start"] <= w["end"] <= duration for w in doc["words"])
    covered = {k for w in doc["words"] for k in range(30) if w["start"] < (k + 1) * 20 and w["end"] >= k * 20}
    assert covered == set(range(30))


def test_switching_modes_leaves_the_model_deterministic(tiny_model, short_media) -> None:
    # Given a memoised model that served other modes in between (attention modules were rebuilt)
    first = api.transcribe(str(short_media), tiny_model, mode="full")
    api.transcribe(str(short_media), tiny_model, mode="local_attention")
    again = api.transcribe(str(short_media), tiny_model, mode="full")
    # Then the same input gives the same words (no dropout left switched on)
    assert again["words"] == first["words"]


def test_a_local_attention_round_trip_restores_the_original_encoder(tiny_model, tiny_model_path) -> None:
    # Given a fresh copy of the model, never touched by gpu_job
    import torch
    from nemo.collections.asr.models import ASRModel

    from gpu_job.modes import configure_attention

    fresh = ASRModel.restore_from(str(tiny_model_path), map_location="cpu").eval()
    signal = torch.randn(1, 16000 * 4, generator=torch.Generator().manual_seed(1)) * 0.1
    length = torch.tensor([signal.shape[1]])
    # When the memoised model goes to local attention and back
    configure_attention(tiny_model, "local_attention")
    configure_attention(tiny_model, "full")
    # Then its encoder computes what the untouched model computes (NeMo's rebuilt attention would
    # otherwise carry randomly initialised biases the checkpoint never had)
    with torch.inference_mode():
        expected, _ = fresh(input_signal=signal, input_signal_length=length)
        actual, _ = tiny_model(input_signal=signal, input_signal_length=length)
    assert torch.allclose(actual, expected, atol=1e-5)


def test_streaming_pulls_audio_only_one_block_ahead_of_the_window_it_encodes(tiny_model, monkeypatch) -> None:
    # Given 120 s of audio delivered in 1 s blocks by a lazy generator that counts what was pulled
    import numpy as np

    from gpu_job.modes import configure_attention

    configure_attention(tiny_model, "streaming")
    rng = np.random.default_rng(0)
    pulled = 0

    def blocks():
        nonlocal pulled
        for _ in range(120):
            pulled += 16000
            yield (rng.standard_normal(16000) * 0.1).astype(np.float32)

    pulled_at_window: list[int] = []
    real_forward = type(tiny_model).forward

    def forward(self, *args, **kwargs):
        pulled_at_window.append(pulled)
        return real_forward(self, *args, **kwargs)

    monkeypatch.setattr(type(tiny_model), "forward", forward)
    chunking = inference.SampleChunking.for_model(tiny_model, 20.0, 5.0, 3.0)
    # When streamed
    result = inference.transcribe_stream(tiny_model, blocks(), chunking)
    # Then window k was encoded when at most its own end plus one block had been pulled: memory is bounded
    # by the window, not by the file
    assert result.chunks == len(pulled_at_window) == 6
    for k, seen in enumerate(pulled_at_window):
        window_end = min((k + 1) * chunking.chunk + chunking.right, 120 * 16000)
        assert seen <= window_end + 16000
