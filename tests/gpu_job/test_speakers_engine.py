"""Specification: a conversation's words carry who said them, in the batched engine and the single-file
modes (docs/SPEAKERS.md), with the tiny speech model and the tiny diarizer the repo trains.

The conversation is generated (scripts/make_diarization_set.py) from voices the diarizer never heard in
training, so every word's true speaker is known. Speakers are numbered by first appearance, so the
check maps them to the truth by the best one-to-one mapping before counting agreement; the bound is
loose (benchmarks/diarization.py measures the real figure).
"""

from __future__ import annotations

import shutil
import sys
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from make_diarization_set import TEST_VOICES, Conversation, make_conversation, write_conversation  # noqa: E402
from make_speech_corpus import WordBank  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng makes the speech")


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Conversation, Path]:
    root = tmp_path_factory.mktemp("speakers")
    talk = make_conversation(1801, 2, 0.6, TEST_VOICES, WordBank(REPO / "build" / "espeak_cache"))
    return talk, write_conversation(root, "two", talk)


def agreement(doc: dict[str, Any], talk: Conversation) -> float:
    """Share of transcript words whose speaker is the truth's, under the best speaker mapping (a word's
    truth: the true word it overlaps longest)."""
    pairs = []
    for word in doc["words"]:
        overlaps = [
            (min(word["end"], float(t["end"])) - max(word["start"], float(t["start"])), int(t["speaker"]))
            for t in talk.words
        ]
        best, speaker = max(overlaps)
        if best > 0:
            pairs.append((word["speaker"], speaker))
    labels = sorted({h for h, _ in pairs})
    truths = sorted({r for _, r in pairs})
    best_right = 0
    for chosen in permutations(truths + [-1] * len(labels), len(labels)):
        mapping = dict(zip(labels, chosen, strict=True))
        best_right = max(best_right, sum(mapping[h] == r for h, r in pairs))
    return best_right / max(len(pairs), 1)


@pytest.mark.parametrize("mode", ["batched", "full"])
def test_each_word_gets_the_speaker_who_said_it(
    mode: str, speech_model: Any, conversation: tuple[Conversation, Path], transcript_validator: Any
) -> None:
    from gpu_job import api

    talk, path = conversation
    # Given a two-voice conversation, Speakers auto / When transcribed
    doc = api.transcribe(str(path), speech_model, mode=mode, speakers="auto")
    transcript_validator(doc)
    # Then the diarizer's speakers label the words, numbered from the first voice
    assert doc["speakers"]["used"] == "diarization" and doc["speakers"]["count"] >= 2
    assert doc["words"][0]["speaker"] == 0
    assert all("speaker" in w and 0.0 <= w["confidence"] <= 1.0 for w in doc["words"])
    assert agreement(doc, talk) >= 0.8
    # And no segment mixes two speakers
    for segment in doc["segments"]:
        assert {w["speaker"] for w in segment["words"]} == {segment["speaker"]}


def test_off_and_a_single_speaker(speech_model: Any, conversation: tuple[Conversation, Path]) -> None:
    from gpu_job import api

    _, path = conversation
    off = api.transcribe(str(path), speech_model, mode="batched", speakers="off")
    assert off["speakers"]["used"] == "off" and all("speaker" not in w for w in off["words"])
    assert all("speaker" not in s for s in off["segments"])
    one = api.transcribe(str(path), speech_model, mode="batched", speakers="1")
    assert one["speakers"]["count"] == 1 and {w["speaker"] for w in one["words"]} == {0}
