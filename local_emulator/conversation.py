"""A generated 3-speaker conversation with exact truth, and how well a transcript's speakers agree with it.

`make demo` and tests/workflow/test_speakers_workflow.py upload this conversation (docs/SPEAKERS.md):
espeak-ng voices the tiny diarizer never trained on (scripts/make_diarization_set.py TEST_VOICES) take
turns saying words the tiny speech model knows, so both models are checked on real audio. The truth
says who said each word; `speaker_agreement` scores the transcript's labels against it under the best
one-to-one mapping of labels (the diarizer's numbering is its own).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from local_emulator.template import REPO_ROOT
from scripts.make_diarization_set import (
    DEFAULT_CACHE,
    TEST_VOICES,
    Conversation,
    make_conversation,
    write_conversation,
)
from scripts.make_speech_corpus import WordBank

SEED = 5
SPEAKERS = 3
MINUTES = 0.8  # about 60 s: long enough to tell three voices apart, short for CPU tests


def three_speakers(out: Path, name: str = "conversation") -> tuple[Path, Conversation]:
    """The conversation as ``out/<name>.wav`` (and its truth as ``<name>.json``); the espeak cache is
    shared with the other generated sets, so a second run synthesises nothing."""
    conversation = make_conversation(
        SEED, SPEAKERS, MINUTES, TEST_VOICES, WordBank(REPO_ROOT / DEFAULT_CACHE)
    )
    return write_conversation(out, name, conversation), conversation


def _truth_speaker(word: dict[str, Any], truth: list[dict[str, Any]]) -> int:
    """The speaker of the truth word overlapping ``word`` longest (none overlapping: the nearest)."""

    def score(t: dict[str, Any]) -> tuple[float, float]:
        overlap = min(word["end"], t["end"]) - max(word["start"], t["start"])
        return (max(overlap, 0.0), -abs((word["start"] + word["end"]) - (t["start"] + t["end"])))

    return int(max(truth, key=score)["speaker"])


def speaker_agreement(words: list[dict[str, Any]], truth: list[dict[str, Any]]) -> float:
    """Share of ``words`` whose ``speaker`` is the truth's under the optimal label mapping (a word
    without a speaker counts as wrong)."""
    if not words:
        return 0.0
    labelled = [(int(w["speaker"]), _truth_speaker(w, truth)) for w in words if w.get("speaker") is not None]
    if not labelled:
        return 0.0
    confusion = np.zeros((max(h for h, _ in labelled) + 1, max(r for _, r in labelled) + 1))
    for hyp, ref in labelled:
        confusion[hyp, ref] += 1
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    return float(confusion[rows, cols].sum()) / len(words)
