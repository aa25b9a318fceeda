"""Channels (docs/CHANNELS.md): a call's two sides are split, copies are mixed, cancelling mixes are
avoided with a warning, silence gives 0 words; the default track is the one transcribed."""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np
import pytest

from tests.gpu_job import accuracy_support as acc
from tests.gpu_job import channel_support as cs

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng makes the speech")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("channels")
    u = cs.utterances(3, root / "cache")
    call = cs.make_call([(0, u[0]), (1, u[1]), (0, u[2])])
    both = call.left + call.right
    silence = np.random.default_rng(0).standard_normal(16000 * 4).astype(np.float32) * 0.003
    return {
        "call": call,
        "split": cs.write_stereo(root / "call.wav", call.left, call.right),
        "inverted": cs.write_stereo(root / "inverted.wav", both, -both),
        "identical": cs.write_stereo(root / "same.wav", both, both),
        "silence": cs.write_stereo(root / "silence.wav", silence, silence[::-1].copy()),
        "tracks": cs.write_two_tracks(
            root / "tracks.mka",
            cs.write_mono(root / "a.wav", call.right),
            cs.write_mono(root / "b.wav", call.left),
        ),
    }


def words(doc: dict[str, Any], channel: int | None = None) -> list[str]:
    return [acc.normalise(w["word"]) for w in doc["words"] if channel is None or w.get("channel") == channel]


def truth(call: cs.Call, channel: int | None = None) -> list[str]:
    return [acc.normalise(w.word) for c, w in call.words if channel is None or c == channel]


def wer(ref: list[str], hyp: list[str]) -> float:
    return acc.align(ref, hyp)[0] / max(len(ref), 1)


def test_auto_splits_a_call_and_labels_each_channel(
    speech_model: Any, files: dict[str, Any], transcript_validator: Any
) -> None:
    from gpu_job import api

    doc = api.transcribe(str(files["split"]), speech_model, mode="batched", channel_mode="auto")
    transcript_validator(doc)
    assert doc["channel_mode"]["used"] == "split", doc["channel_mode"]
    for channel in (0, 1):
        assert wer(truth(files["call"], channel), words(doc, channel)) <= 0.2
    assert {s["channel"] for s in doc["segments"]} == {0, 1}
    assert doc["text"].startswith("[Channel 1] ") and "\n[Channel 2] " in doc["text"]


def test_identical_channels_are_mixed(speech_model: Any, files: dict[str, Any]) -> None:
    from gpu_job import api

    doc = api.transcribe(str(files["identical"]), speech_model, mode="batched", channel_mode="auto")
    assert doc["channel_mode"]["used"] == "mix" and doc["warnings"] == []
    assert all(s["channel"] is None for s in doc["segments"])
    assert wer(truth(files["call"]), words(doc)) <= 0.2


@pytest.mark.parametrize("mode", ["auto", "mix"])
def test_a_cancelling_mix_uses_the_louder_channel_with_a_warning(
    speech_model: Any, files: dict[str, Any], mode: str
) -> None:
    from gpu_job import api

    doc = api.transcribe(str(files["inverted"]), speech_model, mode="batched", channel_mode=mode)
    assert doc["channel_mode"]["used"] == "channel"
    assert doc["channel_mode"]["measurements"]["mix_vs_louder_db"] < -12
    assert len(doc["warnings"]) == 1 and "cancel" in doc["warnings"][0]
    assert wer(truth(files["call"]), words(doc)) <= 0.2


def test_silence_gives_no_words(speech_model: Any, files: dict[str, Any]) -> None:
    from gpu_job import api

    doc = api.transcribe(str(files["silence"]), speech_model, mode="batched", channel_mode="auto")
    assert doc["words"] == [] and doc["speech_seconds"] == 0


def test_the_default_track_is_transcribed(speech_model: Any, files: dict[str, Any]) -> None:
    from gpu_job import api

    doc = api.transcribe(str(files["tracks"]), speech_model, mode="batched")
    assert doc["track"]["index"] == 1 and doc["track"]["default"] is True
    assert doc["track"]["language"] == "eng"
    assert [t["index"] for t in doc["other_tracks"]] == [0]
    assert wer(truth(files["call"], 0), words(doc)) <= 0.2


def test_a_split_calls_speakers_are_its_channels(speech_model: Any, files: dict[str, Any]) -> None:
    # Given a two-party call split by channel, Speakers auto / When transcribed
    from gpu_job import api

    doc = api.transcribe(
        str(files["split"]), speech_model, mode="batched", channel_mode="split", speakers="auto"
    )
    # Then each word's speaker is the channel that said it, and no diarizer was consulted
    assert doc["speakers"]["used"] == "channel" and doc["speakers"]["count"] == 2
    assert doc["words"] and all(w["speaker"] == w["channel"] for w in doc["words"])
    assert all(s["speaker"] == s["channel"] for s in doc["segments"])
