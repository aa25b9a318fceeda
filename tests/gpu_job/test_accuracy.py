"""Accuracy specification: the pipeline transcribes real (synthetic) speech correctly in every mode.

The model is tests/fixtures/models/tiny_tdt_speech.nemo, a small FastConformer-TDT trained on the
espeak-ng corpus of scripts/make_speech_corpus.py (docs/TINY_MODEL.md). The audio here is regenerated
from the generator's held-out streams (test and long splits, never used in training), and the truth
(words and their start times) is what the generator placed in the audio. Everything goes through
`gpu_job.api`, so these tests measure our pipeline (decoding, chunking, streaming merge, timestamps),
not NeMo alone.

Runtime (2 shared CPU cores): see docs/TINY_MODEL.md; the 20-minute recording is transcribed once
per mode and shared by the tests of this module.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.gpu_job import accuracy_support as acc

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng regenerates the held-out audio"),
]

MODES = ("full", "local_attention", "streaming", "batched")
HELDOUT_UTTERANCES = 60
LONG_MINUTES = 20.0
WER_GOAL = 0.05
LONG_FULL_WER_MAX = 0.05
MODE_WER_MARGIN = 0.02
START_TOLERANCE_S = 0.25
START_FRACTION = 0.95
BATCHED_WER_MARGIN = 0.005  # the batched engine must be within 0.5 WER points of full attention


@pytest.fixture(scope="module")
def heldout_score(speech_model: Any, tmp_path_factory: pytest.TempPathFactory) -> acc.Score:
    """Given held-out utterances (1-15 s, en/de/es, many voices), transcribed one by one in full mode."""
    from gpu_job import api

    recordings = acc.heldout_utterances(HELDOUT_UTTERANCES, tmp_path_factory.mktemp("heldout"))
    score = acc.Score()
    for rec in recordings:
        score.add(rec.words, api.transcribe(str(rec.path), speech_model, mode="full"))
    print(f"\nheld-out full: {score.summary()}")
    return score


@pytest.fixture(scope="module")
def heldout_batched_score(speech_model: Any, tmp_path_factory: pytest.TempPathFactory) -> acc.Score:
    """Given the same held-out utterances, all at once through the batched engine (many per batch),
    as a pool worker would send them."""
    from gpu_job import api

    recordings = acc.heldout_utterances(HELDOUT_UTTERANCES, tmp_path_factory.mktemp("heldout_batched"))
    docs = api.transcribe_many([str(r.path) for r in recordings], speech_model)
    score = acc.Score()
    for rec, doc in zip(recordings, docs, strict=True):
        assert isinstance(doc, dict) and doc["mode"] == "batched", doc
        score.add(rec.words, doc)
    print(f"\nheld-out batched: {score.summary()}")
    return score


@pytest.fixture(scope="module")
def long_scores(speech_model: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, acc.Score]:
    """Given a 20-minute recording of held-out utterances and pauses: local_attention, streaming and
    batched (VAD windows, batched encoder and decoder, merged back) transcribe the whole file; the
    full-attention baseline transcribes the same utterances as separate files (full attention over
    the whole 20 minutes needs ~21 GB on CPU: it was OOM-killed
    on the 23 GB test machine, so the baseline is the same audio, ideally segmented)."""
    from gpu_job import api

    rec, parts = acc.long_recording(LONG_MINUTES, tmp_path_factory.mktemp("long"))
    assert rec.duration >= LONG_MINUTES * 60 * 0.95
    assert sum(len(p.words) for p in parts) == len(rec.words)
    scores: dict[str, acc.Score] = {}
    for mode in MODES:
        started, cpu_started = time.perf_counter(), time.process_time()
        score = acc.Score()
        if mode == "full":
            for part in parts:
                score.add(part.words, api.transcribe(str(part.path), speech_model, mode="full"))
        else:
            doc = api.transcribe(str(rec.path), speech_model, mode=mode)
            assert doc["mode"] == mode
            score.add(rec.words, doc)
        scores[mode] = score
        print(
            f"\nlong {LONG_MINUTES:g} min {mode}: {score.summary()} "
            f"[wall {time.perf_counter() - started:.0f}s, cpu {time.process_time() - cpu_started:.0f}s]"
        )
    return scores


def test_full_mode_wer_on_heldout_utterances_meets_the_goal(heldout_score: acc.Score) -> None:
    # Then: at most 5% of the reference words are wrong, missing or extra.
    assert heldout_score.ref_words > 500, "too few words for a 5% bound to mean anything"
    assert heldout_score.wer <= WER_GOAL, f"{heldout_score.summary()}\n" + "\n".join(heldout_score.examples)


def test_full_mode_word_starts_on_heldout_utterances_are_within_250ms(heldout_score: acc.Score) -> None:
    # Then: >= 95% of the correctly recognised words start within 0.25 s of where the generator put them.
    assert len(heldout_score.start_errors) >= 0.9 * heldout_score.ref_words
    assert heldout_score.within(START_TOLERANCE_S) >= START_FRACTION, heldout_score.summary()


def test_long_recording_full_mode_baseline_is_accurate(long_scores: dict[str, acc.Score]) -> None:
    # Then: full attention on the recording's utterances recognises the words (the baseline).
    full = long_scores["full"]
    assert full.ref_words > 1000
    assert full.wer <= LONG_FULL_WER_MAX, full.summary() + "\n" + "\n".join(full.examples)


def test_batched_engine_wer_on_heldout_utterances_is_within_half_a_point_of_full(
    heldout_score: acc.Score, heldout_batched_score: acc.Score
) -> None:
    assert heldout_batched_score.ref_words == heldout_score.ref_words
    assert heldout_batched_score.wer <= heldout_score.wer + BATCHED_WER_MARGIN, (
        f"batched: {heldout_batched_score.summary()}\nfull: {heldout_score.summary()}\n"
        + "\n".join(heldout_batched_score.examples)
    )


def test_batched_engine_word_starts_on_heldout_utterances_are_within_250ms(
    heldout_batched_score: acc.Score,
) -> None:
    score = heldout_batched_score
    assert len(score.start_errors) >= 0.9 * score.ref_words
    assert score.within(START_TOLERANCE_S) >= START_FRACTION, score.summary()


def test_long_recording_batched_wer_is_within_half_a_point_of_full(long_scores: dict[str, acc.Score]) -> None:
    # Then: cutting at pauses, batching windows and merging them back costs at most 0.5 WER points
    full, batched = long_scores["full"], long_scores["batched"]
    assert batched.ref_words == full.ref_words
    assert batched.wer <= full.wer + BATCHED_WER_MARGIN, (
        f"batched: {batched.summary()}\nfull: {full.summary()}\n" + "\n".join(batched.examples)
    )


@pytest.mark.parametrize("mode", ["local_attention", "streaming", "batched"])
def test_long_recording_wer_of_each_mode_is_within_2_points_of_full(
    long_scores: dict[str, acc.Score], mode: str
) -> None:
    # Then: limiting attention or chunking the audio costs at most 2 WER points against full attention.
    full, other = long_scores["full"], long_scores[mode]
    assert other.wer <= full.wer + MODE_WER_MARGIN, (
        f"{mode}: {other.summary()}\nfull: {full.summary()}\n" + "\n".join(other.examples)
    )


@pytest.mark.parametrize("mode", MODES)
def test_long_recording_word_starts_are_within_250ms_in_every_mode(
    long_scores: dict[str, acc.Score], mode: str
) -> None:
    # Then: timestamps survive chunking and merging: >= 95% of recognised words within 0.25 s.
    score = long_scores[mode]
    assert len(score.start_errors) >= 0.9 * score.ref_words, score.summary()
    assert score.within(START_TOLERANCE_S) >= START_FRACTION, f"{mode}: {score.summary()}"


def test_fixture_model_is_small(speech_model: Any) -> None:
    # Then: the committed fixture stays a few MB and keeps Parakeet's 8x (80 ms) encoder frames.
    size_mb = Path(acc.SPEECH_MODEL).stat().st_size / 1e6
    assert size_mb <= 6.0, f"{size_mb:.1f} MB"
    assert int(speech_model.encoder.subsampling_factor) == 8
