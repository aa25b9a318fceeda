"""Specification of subtitle cue building (pipeline.subtitles) and SRT/VTT/text rendering."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from pipeline import formats
from pipeline.subtitles import MAX_CUE_MS, MAX_LINE_CHARS, MAX_LINES, MIN_CUE_MS, PAUSE_MS, Cue, build_cues
from pipeline.transcript import TranscriptDocument


# ---------------------------------------------------------------- helpers
def words_at(
    texts: str | list[str], start: float = 0.0, word_s: float = 0.3, gap_s: float = 0.05
) -> list[dict]:
    """Timed words laid end to end with a constant gap; a string is split into its words."""
    out, t = [], start
    for text in texts.split() if isinstance(texts, str) else texts:
        out.append({"word": text, "start": round(t, 3), "end": round(t + word_s, 3)})
        t += word_s + gap_s
    return out


def document(
    segments: list[dict], words: list[dict] | None = None, text: str = "", duration_s: float = 10**6
) -> TranscriptDocument:
    """A TranscriptDocument with these segments; what the cue rules do not read is filled in."""
    return TranscriptDocument.model_validate(
        {
            "schema_version": "1.1",
            "source": {"uri": "s3://b/k", "etag": "e", "size": 1},
            "media": {"duration_s": duration_s, "codec": None, "sample_rate": None, "channels": None},
            "model": {"name": "m", "revision": None},
            "mode": "full",
            "chunking": None,
            "language": None,
            "text": text,
            "segments": segments,
            "words": words or [],
            "timings": {"download": 0, "decode": 0, "load": 0, "inference": 0, "total": 0},
            "hardware": {"device": "cpu"},
        }
    )


def transcript(*segments: list[dict], duration_s: float | None = None) -> TranscriptDocument:
    """Segments of these timed words; no duration means a media end far past the last word."""
    segs = [
        {
            "id": i,
            "start": words[0]["start"] if words else 0.0,
            "end": words[-1]["end"] if words else 0.0,
            "text": " ".join(w["word"] for w in words),
            "words": words,
        }
        for i, words in enumerate(segments)
    ]
    words = [w for s in segments for w in s]
    return document(segs, words, duration_s=10**6 if duration_s is None else duration_s)


def shown_words(cues: list[Cue]) -> list[str]:
    """Words as a viewer reads them: hard-wrapped pieces glued back together."""
    words, pending = [], ""
    for cue in cues:
        for token in cue.tokens:
            pending += token.text
            if not token.joins_next:
                words.append(pending)
                pending = ""
    return words + ([pending] if pending else [])


def random_segments(rng: random.Random) -> list[list[dict]]:
    vocabulary = [
        "a",
        "I",
        "the",
        "speech",
        "model",
        "transcribes",
        "audio,",
        "quickly.",
        "really?",
        "yes!",
        "internationalisation",
        "x" * 42,
        "Donaudampfschifffahrtsgesellschaftskapitänswitwe",
    ]
    segments, t = [], rng.uniform(0, 2)
    for _ in range(rng.randint(1, 5)):
        words = []
        for _ in range(rng.randint(0, 60)):
            text = rng.choice(vocabulary) if rng.random() < 0.3 else "w" * rng.randint(1, 12)
            length = rng.choice([0.0, 0.05, rng.uniform(0.1, 0.9), rng.uniform(1, 9)])
            words.append({"word": text, "start": round(t, 3), "end": round(t + length, 3)})
            t += length + rng.choice([0.0, 0.0, 0.02, 0.3, PAUSE_MS / 1000, 2.5])
            if rng.random() < 0.05:  # a glitch: the next word starts before this one
                t = max(t - rng.uniform(0.1, 3.0), 0.0)
        segments.append(words)
    return segments


# ---------------------------------------------------------------- properties over generated word lists
@pytest.mark.parametrize("seed", range(40))
def test_every_generated_transcript_obeys_all_cue_rules(seed: int) -> None:
    # Given a random transcript: short/long/empty-duration words, pauses, punctuation, several segments
    rng = random.Random(seed)
    segments = random_segments(rng)
    doc = transcript(*segments)

    # When cues are built
    cues = build_cues(doc)

    # Then every cue fits 2 lines of 42 characters and 7 s, and cues are ordered without overlap
    for cue in cues:
        assert 1 <= len(cue.lines) <= MAX_LINES
        assert all(0 < len(line) <= MAX_LINE_CHARS for line in cue.lines), cue.lines
        assert 0 <= cue.end_ms - cue.start_ms <= MAX_CUE_MS
    for before, after in pairwise(cues):
        assert before.start_ms <= after.start_ms
        assert before.end_ms <= after.start_ms
    # And every word is shown once, in order, never split except words longer than a line
    expected = [w["word"] for s in segments for w in s]
    assert shown_words(cues) == expected
    for cue in cues:
        rendered = "".join(cue.lines).replace(" ", "")
        assert rendered == "".join(t.text for t in cue.tokens)
        for token in cue.tokens:
            assert token.joins_next is False or len(token.text) == MAX_LINE_CHARS
    # And no cue spans two segments
    boundaries, count = set(), 0
    for cue in cues:
        count += sum(1 for t in cue.tokens if not t.joins_next)
        boundaries.add(count)
    count = 0
    for words in segments:
        count += len(words)
        if words:
            assert count in boundaries
    # And a cue is shorter than the minimum only when the next cue starts right at its end
    for index, cue in enumerate(cues):
        if cue.end_ms - cue.start_ms < MIN_CUE_MS and index + 1 < len(cues):
            assert cue.end_ms == cues[index + 1].start_ms


# ---------------------------------------------------------------- individual rules
def test_a_sentence_end_starts_a_new_cue() -> None:
    doc = transcript(words_at(["Hello", "there.", "How", "are", "you?"]))

    cues = build_cues(doc)

    assert [c.lines for c in cues] == [("Hello there.",), ("How are you?",)]


def test_a_pause_starts_a_new_cue() -> None:
    first = words_at(["before", "the", "pause"])
    after = words_at(["after", "it"], start=first[-1]["end"] + PAUSE_MS / 1000)

    cues = build_cues(transcript(first + after))

    assert [c.lines for c in cues] == [("before the pause",), ("after it",)]


def test_short_gaps_do_not_split_a_cue() -> None:
    doc = transcript(words_at(["one", "two", "three"], gap_s=PAUSE_MS / 1000 - 0.1))

    assert len(build_cues(doc)) == 1


def test_a_cue_never_lasts_longer_than_seven_seconds() -> None:
    # Given 40 one-letter words spoken slowly without punctuation or pauses (fits 2x42 by text)
    doc = transcript(words_at(["a"] * 40, word_s=0.4, gap_s=0.1))

    cues = build_cues(doc)

    assert len(cues) > 1
    assert all(c.end_ms - c.start_ms <= MAX_CUE_MS for c in cues)


def test_text_longer_than_one_line_is_balanced_over_two_lines() -> None:
    doc = transcript(words_at("the quick brown fox jumps over the lazy dog and keeps running"))

    (cue,) = build_cues(doc)

    assert len(cue.lines) == 2
    assert abs(len(cue.lines[0]) - len(cue.lines[1])) <= 10


def test_a_full_cue_is_cut_after_a_comma_rather_than_mid_phrase() -> None:
    # Given a phrase ending in a comma past half a cue, then more words than fit
    words = words_at(
        "we looked at the model very carefully, and then after a long while we all went home together",
        word_s=0.2,
    )

    cues = build_cues(transcript(words))

    assert len(cues) == 2
    assert cues[0].lines[-1].endswith("carefully,")


def test_a_word_longer_than_a_line_is_hard_wrapped() -> None:
    long_word = "x" * 100
    doc = transcript(words_at(["say", long_word, "now"], word_s=1.0))

    cues = build_cues(doc)

    lines = [line for c in cues for line in c.lines]
    assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    assert shown_words(cues) == ["say", long_word, "now"]


def test_a_short_cue_is_held_for_the_minimum_duration_when_the_gap_allows() -> None:
    doc = transcript(words_at(["Hi."], word_s=0.2), words_at(["Later."], start=5.0))

    first = build_cues(doc)[0]

    assert first.end_ms - first.start_ms == MIN_CUE_MS


def test_a_short_cue_ends_where_the_next_begins_when_the_gap_is_smaller() -> None:
    doc = transcript(words_at(["Hi."], word_s=0.2), words_at(["There."], start=0.3))

    first, second = build_cues(doc)

    assert first.end_ms == second.start_ms == 300


def test_the_last_cue_is_not_extended_past_the_end_of_the_media() -> None:
    doc = transcript(words_at(["Bye."], start=10.0, word_s=0.2), duration_s=10.3)

    (cue,) = build_cues(doc)

    assert cue.end_ms == 10_300


def test_backwards_timestamps_are_made_monotonic() -> None:
    # Given a word that starts before the previous one, and one that ends before it starts
    words = [
        {"word": "One.", "start": 1.0, "end": 1.5},
        {"word": "Two.", "start": 0.5, "end": 0.4},
        {"word": "Three.", "start": 2.0, "end": 2.5},
    ]

    cues = build_cues(transcript(words))

    assert shown_words(cues) == ["One.", "Two.", "Three."]
    assert [c.start_ms for c in cues] == sorted(c.start_ms for c in cues)
    assert all(c.start_ms <= c.end_ms <= n.start_ms for c, n in pairwise(cues))


def test_a_segment_without_word_timings_is_shown_from_its_text() -> None:
    doc = document([{"id": 0, "start": 1.0, "end": 4.0, "text": "no word timings here", "words": []}])

    (cue,) = build_cues(doc)

    assert cue.lines == ("no word timings here",)
    assert (cue.start_ms, cue.end_ms) == (1000, 4000)


def test_an_empty_transcript_has_no_cues() -> None:
    assert build_cues(document([])) == []


# ---------------------------------------------------------------- rendering
def test_srt_numbers_cues_and_uses_comma_milliseconds() -> None:
    cues = [Cue(0, 1500, ("first",), ()), Cue(3_723_004, 3_724_000, ("second", "line"), ())]

    srt = formats.to_srt(cues)

    assert (
        srt == "1\n00:00:00,000 --> 00:00:01,500\nfirst\n\n2\n01:02:03,004 --> 01:02:04,000\nsecond\nline\n"
    )


def test_vtt_has_a_header_dot_milliseconds_and_escaped_markup() -> None:
    cues = [Cue(61_001, 62_000, ("a <b> & c",), ())]

    vtt = formats.to_vtt(cues)

    assert vtt == "WEBVTT\n\n00:01:01.001 --> 00:01:02.000\na &lt;b&gt; &amp; c\n"


def test_empty_cue_lists_render_as_valid_empty_files() -> None:
    assert formats.to_srt([]) == ""
    assert formats.to_vtt([]) == "WEBVTT\n"


def test_text_has_one_wrapped_paragraph_per_segment() -> None:
    long_text = " ".join(["word"] * 50)
    doc = document(
        [
            {"id": 0, "start": 0, "end": 1, "text": long_text, "words": []},
            {"id": 1, "start": 1, "end": 2, "text": " second  paragraph ", "words": []},
        ]
    )

    text = formats.to_text(doc)

    first, second = text.rstrip("\n").split("\n\n")
    assert all(len(line) <= formats.TEXT_WIDTH for line in first.splitlines())
    assert first.split() == long_text.split()
    assert second == "second paragraph"


def test_text_of_an_empty_transcript_is_empty() -> None:
    assert formats.to_text(document([])) == ""


# ---------------------------------------------------------------- channels transcribed apart (split)
def split_transcript(*turns: tuple[int, list[dict]]) -> TranscriptDocument:
    """Segments of (channel, timed words), merged by start time as gpu_job writes them."""
    ordered = sorted(turns, key=lambda turn: (turn[1][0]["start"], turn[0]))
    segs = [
        {
            "id": i,
            "start": words[0]["start"],
            "end": words[-1]["end"],
            "channel": channel,
            "text": " ".join(w["word"] for w in words),
            "words": [{**w, "channel": channel} for w in words],
        }
        for i, (channel, words) in enumerate(ordered)
    ]
    return document(segs, [w for s in segs for w in s["words"]])


def test_split_cues_open_with_the_speakers_label_and_merge_by_time() -> None:
    # Given an agent on channel 0 and a customer on channel 1, taking turns
    doc = split_transcript(
        (0, words_at("hello how can I help.", start=0.0)),
        (1, words_at("my order is late.", start=3.0)),
        (0, words_at("let me check.", start=6.0)),
    )

    # When cues are built and written
    cues = build_cues(doc)
    srt, vtt = formats.to_srt(cues), formats.to_vtt(cues)

    # Then the cues follow the conversation and every cue says who speaks
    assert [cue.channel for cue in cues] == [0, 1, 0]
    assert [cue.lines[0].split("]")[0] + "]" for cue in cues] == ["[Channel 1]", "[Channel 2]", "[Channel 1]"]
    assert "[Channel 2] my order is late." in srt
    assert "[Channel 1] let me check." in vtt


def test_crosstalk_keeps_both_speakers_cues_whole() -> None:
    # Given both channels speaking at once for a while
    agent, customer = words_at("so the refund goes out today", start=0.0), words_at("wait what", start=0.5)
    doc = split_transcript((0, agent), (1, customer))

    # When cues are built
    cues = build_cues(doc)

    # Then each speaker's cue keeps its own times (cues of different channels may overlap)
    by_channel = {cue.channel: cue for cue in cues}
    assert by_channel[0].start_ms == 0 and by_channel[0].end_ms >= round(agent[-1]["end"] * 1000)
    assert by_channel[1].start_ms == 500 and by_channel[1].end_ms >= round(customer[-1]["end"] * 1000)
    assert [cue.start_ms for cue in cues] == sorted(cue.start_ms for cue in cues)


@pytest.mark.parametrize("seed", range(20))
def test_every_generated_split_transcript_obeys_the_cue_rules_per_channel(seed: int) -> None:
    # Given random words on two channels
    rng = random.Random(seed)
    turns = [(channel, words) for channel in (0, 1) for words in random_segments(rng) if words]
    if not turns:
        return
    doc = split_transcript(*turns)

    # When cues are built
    cues = build_cues(doc)

    # Then every cue fits the layout with its label and never overlaps its own channel's cues
    for cue in cues:
        assert cue.lines[0].startswith(f"[Channel {cue.channel + 1}]")
        assert 1 <= len(cue.lines) <= MAX_LINES
        assert all(0 < len(line) <= MAX_LINE_CHARS for line in cue.lines), cue.lines
        assert 0 <= cue.end_ms - cue.start_ms <= MAX_CUE_MS
    for channel in (0, 1):
        own = [cue for cue in cues if cue.channel == channel]
        for before, after in pairwise(own):
            assert before.end_ms <= after.start_ms
        # And each channel's words are all shown, once, in order (labels aside)
        shown = shown_words([Cue(c.start_ms, c.end_ms, c.lines, c.tokens[1:]) for c in own])
        segments = sorted((w for ch, w in turns if ch == channel), key=lambda w: w[0]["start"])
        assert shown == [w["word"] for words in segments for w in words]
    assert [cue.start_ms for cue in cues] == sorted(cue.start_ms for cue in cues)


def test_split_text_has_one_labelled_paragraph_per_turn() -> None:
    # Given two turns of channel 0 in a row, then channel 1
    doc = split_transcript(
        (0, words_at("hello.", start=0.0)),
        (0, words_at("anyone there?", start=2.0)),
        (1, words_at("yes.", start=4.0)),
    )

    # When the text is written
    text = formats.to_text(doc)

    # Then consecutive segments of one speaker make one paragraph, labelled with the channel
    assert text == "[Channel 1] hello. anyone there?\n\n[Channel 2] yes.\n"
