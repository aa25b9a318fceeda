"""Word-to-speaker assignment (gpu_job.speakers, docs/SPEAKERS.md): one rule per test."""

from __future__ import annotations

import pytest
from pipeline.transcript import SCHEMA_VERSION, TranscriptDocument

from gpu_job import transcript
from gpu_job.speakers import OVERLAP_SHARE, SpeakerTurn, assign_speakers, speaker_count, speaker_of
from gpu_job.transcript import PhaseSeconds, build_document, channel_segments, document_text


def word(text: str, start: float, end: float, **extra: object) -> dict[str, object]:
    return {"word": text, "start": start, "end": end, **extra}


def test_a_word_takes_the_speaker_that_covers_it_longest() -> None:
    # Given a turn change at 1.3 s inside a word spanning 1.0-1.5 s
    turns = [SpeakerTurn(0.0, 1.3, 7), SpeakerTurn(1.3, 3.0, 2)]
    # Then the word belongs to the first speaker (0.3 s against 0.2 s), not overlapped
    assert speaker_of(1.0, 1.5, turns) == (7, False)
    # And a word mostly after the change belongs to the second
    assert speaker_of(1.2, 1.6, turns) == (2, False)


def test_turns_listed_in_any_order_give_the_same_speakers() -> None:
    turns = [SpeakerTurn(0.0, 1.0, 0), SpeakerTurn(1.0, 2.0, 1), SpeakerTurn(2.0, 3.0, 0)]
    words = [word("a", 0.1, 0.4), word("b", 1.2, 1.5), word("c", 2.5, 2.9)]
    assert assign_speakers(words, turns) == assign_speakers(words, list(reversed(turns)))


def test_speakers_are_numbered_by_first_appearance() -> None:
    # Given a diarizer whose slot 3 speaks first and slot 0 second
    turns = [SpeakerTurn(0.0, 1.0, 3), SpeakerTurn(1.0, 2.0, 0)]
    words = assign_speakers([word("hi", 0.2, 0.5), word("yes", 1.2, 1.6)], turns)
    # Then the first voice is speaker 0 ("Speaker 1")
    assert [w["speaker"] for w in words] == [0, 1]


def test_a_word_in_silence_takes_the_nearest_turn() -> None:
    turns = [SpeakerTurn(0.0, 1.0, 0), SpeakerTurn(3.0, 4.0, 1)]
    assert speaker_of(1.2, 1.5, turns) == (0, False)  # 0.2 s after speaker 0, 1.5 s before speaker 1
    assert speaker_of(2.5, 2.8, turns) == (1, False)  # 0.2 s before speaker 1
    # equal gaps: the turn before the word (a speaker trails off more often than starting early)
    assert speaker_of(1.5, 2.5, turns) == (0, False)


def test_a_word_spoken_over_is_marked_overlapped_and_keeps_the_longer_speaker() -> None:
    # Given speaker 1 starts talking while speaker 0 is mid-word (1.0-2.0 s)
    turns = [SpeakerTurn(0.0, 2.0, 0), SpeakerTurn(1.4, 4.0, 1)]
    words = assign_speakers([word("overlapping", 1.0, 2.0), word("clear", 3.0, 3.5)], turns)
    assert words[0]["speaker"] == 0 and words[0]["overlap"] is True
    assert words[1]["speaker"] == 1 and "overlap" not in words[1]


def test_a_brief_touch_of_another_voice_is_not_overlap() -> None:
    short = OVERLAP_SHARE * 0.5  # another speaker over less than OVERLAP_SHARE of the word
    turns = [SpeakerTurn(0.0, 2.0, 0), SpeakerTurn(2.0 - short, 4.0, 1)]
    assert speaker_of(1.0, 2.0, turns) == (0, False)


def test_one_speaker_owns_every_word() -> None:
    words = assign_speakers(
        [word("a", 0.0, 0.2), word("b", 5.0, 5.2), word("c", 9.0, 9.5)], [SpeakerTurn(0.5, 6.0, 2)]
    )
    assert {w["speaker"] for w in words} == {0}
    assert speaker_count(words) == 1


def test_a_zero_length_word_is_inside_the_turn_that_holds_its_instant() -> None:
    assert speaker_of(1.5, 1.5, [SpeakerTurn(0.0, 1.0, 0), SpeakerTurn(1.0, 2.0, 1)]) == (1, False)


def test_no_turns_leave_words_without_speaker() -> None:
    words = [word("a", 0.0, 0.2)]
    assert assign_speakers(words, []) == words
    assert speaker_count(words) == 0


def test_split_channels_are_the_speakers() -> None:
    # Given a stereo call transcribed per channel, and a diarizer that would say otherwise
    words = [word("hello", 0.0, 0.4, channel=1), word("hi", 0.5, 0.7, channel=0)]
    labelled = assign_speakers(words, [SpeakerTurn(0.0, 1.0, 5)])
    assert [w["speaker"] for w in labelled] == [1, 0]


def test_a_turn_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        SpeakerTurn(2.0, 1.0, 0)


def test_segments_break_at_speaker_turns_even_mid_sentence() -> None:
    turns = [SpeakerTurn(0.0, 1.0, 0), SpeakerTurn(1.0, 2.0, 1)]
    words = assign_speakers(
        [word("so", 0.1, 0.3), word("then", 0.4, 0.7), word("right", 1.1, 1.4), word("yes.", 1.5, 1.8)], turns
    )
    segments = channel_segments(words)
    assert [(s["text"], s["speaker"]) for s in segments] == [("so then", 0), ("right yes.", 1)]
    assert document_text(segments) == "[Speaker 1] so then\n[Speaker 2] right yes."


def test_the_document_with_speakers_is_valid_under_the_contract() -> None:
    turns = [SpeakerTurn(0.0, 1.0, 0), SpeakerTurn(1.0, 2.0, 1)]
    words = assign_speakers([word("hello.", 0.1, 0.5), word("hi.", 1.1, 1.5)], turns)
    document = build_document(
        source={"uri": "s3://b/k", "etag": "e", "size": 1},
        media={"duration_s": 2.0, "codec": "pcm", "sample_rate": 16000, "channels": 1},
        model={"name": "m", "revision": None},
        mode="batched",
        chunking=None,
        words=words,
        timings=PhaseSeconds(),
        hardware={"device": "cpu"},
        speakers={"requested": "auto", "used": "diarization", "count": 2, "model": "tiny"},
    )
    parsed = TranscriptDocument.model_validate(document)
    assert [s.speaker for s in parsed.segments] == [0, 1]
    assert parsed.speakers is not None and parsed.speakers.count == 2
    assert parsed.schema_version == SCHEMA_VERSION == transcript.SCHEMA_VERSION
