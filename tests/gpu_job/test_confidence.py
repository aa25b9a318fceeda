"""Word confidence (docs/CONFIDENCE.md): every word of every mode carries NeMo's decoder confidence in
[0, 1], segments carry their words' mean, a word gets the aggregate of its own tokens, confidence never
changes what is decoded, and a noisier recording is less sure of itself."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.gpu_job import channel_support as cs

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng makes the speech")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("confidence")
    u = cs.utterances(3, root / "cache")
    call = cs.make_call([(0, u[0]), (1, u[1]), (0, u[2])])
    mono = call.left + call.right
    noise = np.random.default_rng(7).standard_normal(mono.shape[0]).astype(np.float32)
    speech_rms = float(np.sqrt(np.mean(mono[np.abs(mono) > 1e-3] ** 2)))
    noisy = mono + noise * np.float32(speech_rms)  # 0 dB SNR over the speech
    return {
        "mono": cs.write_mono(root / "mono.wav", mono),
        "noisy": cs.write_mono(root / "noisy.wav", np.clip(noisy, -1, 1)),
        "call": cs.write_stereo(root / "call.wav", call.left, call.right),
    }


def assert_confident_words(doc: dict[str, Any]) -> None:
    assert doc["words"], "no words to carry a confidence"
    for word in doc["words"]:
        assert 0.0 <= word["confidence"] <= 1.0, word
    for segment in doc["segments"]:
        mean = sum(w["confidence"] for w in segment["words"]) / len(segment["words"])
        assert segment["confidence"] == pytest.approx(mean, abs=1e-4)


@pytest.mark.parametrize("mode", ["batched", "full", "local_attention", "streaming"])
def test_every_mode_gives_every_word_a_confidence_and_segments_their_mean(
    speech_model: Any, clips: dict[str, Any], transcript_validator: Any, mode: str
) -> None:
    from gpu_job import api

    # Given speech, When it is transcribed in any mode (streaming in 1 s chunks: many chunks)
    doc = api.transcribe(str(clips["mono"]), speech_model, mode=mode, chunk_s=1.0, left_s=0.5, right_s=0.25)
    # Then the document is valid and every word and segment is scored
    transcript_validator(doc)
    assert_confident_words(doc)
    if mode == "streaming":
        assert doc["chunking"]["chunks"] > 3


def test_split_channels_carry_confidence_on_each_channel(speech_model: Any, clips: dict[str, Any]) -> None:
    from gpu_job import api

    doc = api.transcribe(str(clips["call"]), speech_model, mode="batched", channel_mode="split")
    assert {w["channel"] for w in doc["words"]} == {0, 1}
    assert_confident_words(doc)


def test_confidence_does_not_change_the_words_or_their_times(
    speech_model: Any, clips: dict[str, Any]
) -> None:
    from gpu_job import api
    from gpu_job.model import set_word_confidence

    with_conf = api.transcribe(str(clips["mono"]), speech_model, mode="batched")
    set_word_confidence(speech_model, False)
    try:
        without = api.transcribe(str(clips["mono"]), speech_model, mode="batched")
    finally:
        set_word_confidence(speech_model, True)
    assert all("confidence" not in w for w in without["words"])
    assert all("confidence" not in s for s in without["segments"])
    strip = [{k: v for k, v in w.items() if k != "confidence"} for w in with_conf["words"]]
    assert strip == without["words"]


def test_a_word_gets_the_minimum_of_its_own_tokens(speech_model: Any) -> None:
    from gpu_job.engine.tokens import Tokens, _word_start_ids, to_words

    # Given tokens of three words, one of them in several pieces, each token with a known confidence
    ids = torch.tensor(speech_model.tokenizer.text_to_ids("hola mañanaverde gato"), dtype=torch.long)
    n = ids.numel()
    starts = _word_start_ids(speech_model)[ids].tolist()
    assert sum(starts) == 3 and n > 3, speech_model.tokenizer.ids_to_tokens(ids.tolist())
    token_conf = torch.linspace(0.9, 0.1, n)
    tokens = Tokens(ids, torch.arange(n) * 2, torch.ones(n, dtype=torch.long), token_conf)
    # When they become words
    words = to_words(speech_model, tokens)
    # Then each word's confidence is the minimum over the pieces from its first token to the next word's
    first = [i for i, s in enumerate(starts) if s]
    spans = zip(first, [*first[1:], n], strict=True)
    expected = [float(token_conf[a:b].min()) for a, b in spans]
    assert [w.confidence for w in words] == pytest.approx(expected)


def test_streamed_chunks_keep_their_token_confidences_in_order() -> None:
    from gpu_job.engine.tokens import Tokens

    a = Tokens(torch.tensor([1, 2]), torch.tensor([0, 1]), torch.tensor([1, 1]), torch.tensor([0.5, 0.6]))
    b = Tokens(torch.tensor([3]), torch.tensor([9]), torch.tensor([1]), torch.tensor([0.7]))
    assert Tokens.concat([a, b]).confidence.tolist() == pytest.approx([0.5, 0.6, 0.7])  # type: ignore[union-attr]
    # a chunk decoded without confidence: the stream has none rather than a misaligned one
    c = Tokens(torch.tensor([4]), torch.tensor([12]), torch.tensor([1]))
    assert Tokens.concat([a, c]).confidence is None


def test_noise_lowers_the_confidence(speech_model: Any, clips: dict[str, Path]) -> None:
    from gpu_job import api

    clean = api.transcribe(str(clips["mono"]), speech_model, mode="full")
    noisy = api.transcribe(str(clips["noisy"]), speech_model, mode="full")

    def mean(doc: dict[str, Any]) -> float:
        return sum(w["confidence"] for w in doc["words"]) / max(len(doc["words"]), 1)

    assert noisy["words"] and mean(noisy) < mean(clean) - 0.05, (mean(clean), mean(noisy))


def test_gpu_job_and_the_contract_agree_on_the_schema_version() -> None:
    from pipeline.transcript import SCHEMA_VERSION

    from gpu_job import transcript

    assert transcript.SCHEMA_VERSION == SCHEMA_VERSION


def test_the_pool_worker_path_carries_confidence_and_the_expected_languages(
    speech_model: Any, clips: dict[str, Any], s3: Any, transcript_validator: Any
) -> None:
    from pipeline.contracts import TranscriptionRequest, UploadedObject

    from gpu_job.pool.batch import transcribe_batch

    def request(name: str, mode: str, expected: list[str] | None) -> TranscriptionRequest:
        body = Path(clips[name]).read_bytes()
        etag = s3.put_object(Bucket="media-in", Key=f"{name}.wav", Body=body)["ETag"].strip('"')
        source = UploadedObject(
            bucket="media-in", key=f"{name}.wav", etag=etag, size=len(body), uri=f"s3://media-in/{name}.wav"
        )
        return TranscriptionRequest(
            source=source, output_prefix=f"s3://media-out/{name}/", mode=mode, expected_languages=expected
        )

    # Given a pool batch: two files for the batched engine (one expecting German) and one in full mode
    requests = [
        request("mono", "batched", ["de"]),
        request("noisy", "batched", None),
        request("call", "full", None),
    ]
    # When the worker transcribes it
    outcomes = transcribe_batch(requests, speech_model)
    # Then every document is valid and every word of each is scored
    for outcome in outcomes:
        assert isinstance(outcome, dict), outcome
        transcript_validator(outcome)
        assert_confident_words(outcome)
    # And the request's expected languages reached language ID, for its file only
    assert outcomes[0]["expected_languages"] == ["de"] and outcomes[0]["warnings"]
    assert "expected_languages" not in outcomes[1] and outcomes[1]["warnings"] == []
