"""Pure rules: mode choice, segment splitting, time normalisation (language: test_language.py)."""

from __future__ import annotations

import pytest
from pipeline.settings import Settings

from gpu_job.engine.tokens import DecodedWord
from gpu_job.modes import choose_mode
from gpu_job.transcript import MAX_SEGMENT_S, PAUSE_S, normalise_words, split_segments

LIMITS = Settings(full_max_s=600, local_attention_max_s=9000, max_duration_s=43200)
# The older rule, which auto falls back to above BATCHED_MAX_S (here: the engine switched off).
NO_BATCHED = Settings(batched_max_s=0, full_max_s=600, local_attention_max_s=9000, max_duration_s=43200)


@pytest.mark.parametrize("duration", [1.0, 600.0, 9001.0, 43200.0, None])
def test_auto_mode_is_batched_for_every_length_by_default(duration) -> None:
    assert choose_mode("auto", duration, LIMITS) == "batched"


def test_auto_mode_is_batched_up_to_batched_max_s_then_the_older_rule() -> None:
    limits = Settings(batched_max_s=1800, full_max_s=600, local_attention_max_s=9000, max_duration_s=43200)
    assert [choose_mode("auto", d, limits) for d in (1800, 1801, 9001, None)] == [
        "batched",
        "local_attention",
        "streaming",
        "streaming",
    ]


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (30.0, "full"),
        (600.0, "full"),
        (601.0, "local_attention"),
        (9000.0, "local_attention"),
        (9001.0, "streaming"),
        (None, "streaming"),
    ],
)
def test_without_the_engine_auto_mode_picks_by_duration(duration, expected) -> None:
    assert choose_mode("auto", duration, NO_BATCHED) == expected


def test_an_explicit_mode_is_kept_whatever_the_duration() -> None:
    assert choose_mode("full", 50_000.0, LIMITS) == "full"


def test_thresholds_are_env_overridable(monkeypatch) -> None:
    monkeypatch.setenv("BATCHED_MAX_S", "30")
    monkeypatch.setenv("FULL_MAX_S", "60")
    monkeypatch.setenv("LOCAL_ATTENTION_MAX_S", "120")
    limits = Settings.from_env()
    assert [choose_mode("auto", d, limits) for d in (29, 59, 61, 121)] == [
        "batched",
        "full",
        "local_attention",
        "streaming",
    ]


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError):
        choose_mode("fast", 1.0, LIMITS)


def words(*spec: tuple[str, float, float]) -> list[dict]:
    return [{"word": w, "start": s, "end": e} for w, s, e in spec]


def test_segments_end_at_sentence_punctuation() -> None:
    segs = split_segments(
        words(("Hello", 0.0, 0.4), ("there.", 0.5, 0.9), ("How", 1.0, 1.2), ("now?", 1.3, 1.6))
    )
    assert [s["text"] for s in segs] == ["Hello there.", "How now?"]
    assert [s["id"] for s in segs] == [0, 1]


def test_segments_split_on_long_pauses() -> None:
    gap = PAUSE_S + 0.1
    segs = split_segments(words(("a", 0.0, 0.2), ("b", 0.2 + gap, 0.5 + gap)))
    assert len(segs) == 2


def test_segments_never_exceed_the_maximum_length() -> None:
    # Given 40 s of unpunctuated, pause-free speech
    ws = words(*[(f"w{i}", i * 0.5, i * 0.5 + 0.45) for i in range(80)])
    segs = split_segments(ws)
    assert all(s["end"] - s["start"] <= MAX_SEGMENT_S for s in segs)
    # and the segments partition the words, in order, with consistent bounds and text
    assert [w for s in segs for w in s["words"]] == ws
    for s in segs:
        assert s["start"] == s["words"][0]["start"] and s["end"] == max(w["end"] for w in s["words"])
        assert s["text"] == " ".join(w["word"] for w in s["words"])


def test_normalised_times_are_ms_rounded_monotonic_and_clamped_to_the_audio() -> None:
    raw = [DecodedWord("a", 0.00049, 0.5), DecodedWord("b", 0.4, 0.3), DecodedWord("c", 9.9, 10.4)]
    out = normalise_words(raw, duration_s=10.0)
    assert [w["start"] for w in out] == [0.0, 0.4, 9.9]
    assert out[1]["end"] >= out[1]["start"]
    assert out[2]["end"] == 10.0


def test_a_start_past_the_end_is_not_hidden() -> None:
    out = normalise_words([DecodedWord("late", 12.0, 12.5)], duration_s=10.0)
    assert out[0]["start"] == 12.0
