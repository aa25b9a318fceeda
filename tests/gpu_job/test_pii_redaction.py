"""PII redaction over words with timestamps (gpu_job.pii, gpu_job.redaction; docs/REDACTION.md).

Pattern recognizers only, offline: Presidio's card/IBAN/e-mail patterns, phonenumbers, stdnum. The
transcripts are what an ASR model writes: digits spoken as words, e-mail addresses spoken with "at"
and "dot".
"""

from __future__ import annotations

import io
import re
import wave
from typing import Any

import av
import numpy as np
import pytest
from pipeline.outcomes import UnsupportedInput
from pipeline.settings import Settings
from pipeline.transcript import TranscriptDocument

from gpu_job import pii, redaction
from gpu_job.audio_redaction import END_PAD_S, PAD_S, redacted_flac, silence_windows
from gpu_job.transcript import PhaseSeconds, build_document

CARD = "four one one one one one one one one one one one one one one one"
DIGIT_RUN = re.compile(r"\d{4,}")
DIGIT_WORDS = set(pii._DIGIT_WORDS["en"])


def timed(text: str, step: float = 0.5) -> list[dict[str, Any]]:
    return [
        {"start": round(i * step, 3), "end": round(i * step + 0.4, 3), "word": w}
        for i, w in enumerate(text.split())
    ]


def spans_of(text: str, languages: tuple[str, ...] = ("en",)) -> list[tuple[str, str]]:
    words = text.split()
    times = [(i * 0.5, i * 0.5 + 0.4) for i in range(len(words))]
    return [
        (s.entity_type, " ".join(words[s.first : s.last + 1]))
        for s in pii.find_spans(words, times, languages)
    ]


def document(text: str) -> dict[str, Any]:
    words = timed(text)
    return build_document(
        source={"uri": "s3://in/call.wav", "etag": "e", "size": 1},
        media={"duration_s": words[-1]["end"] + 1, "codec": "pcm_s16le", "sample_rate": 16000, "channels": 1},
        model={"name": "tiny", "revision": None},
        mode="batched",
        chunking=None,
        words=words,
        timings=PhaseSeconds(),
        hardware={"device": "cpu"},
    )


@pytest.mark.parametrize(
    ("text", "languages", "entity", "said"),
    [
        (f"my card is {CARD} thanks", ("en",), "CREDIT_CARD", CARD),
        ("my card is 4111 1111 1111 1111 thanks", ("en",), "CREDIT_CARD", "4111 1111 1111 1111"),
        (
            "call me on two zero two five five five zero one two three please",
            ("en",),
            "PHONE_NUMBER",
            "two zero two five five five zero one two three",
        ),
        (
            "plus four four two zero seven nine four six zero zero zero zero",
            ("en",),
            "PHONE_NUMBER",
            "plus four four two zero seven nine four six zero zero zero zero",
        ),
        ("write to john at example dot com today", ("en",), "EMAIL_ADDRESS", "john at example dot com"),
        ("write to john.smith@example.co.uk today", ("en",), "EMAIL_ADDRESS", "john.smith@example.co.uk"),
        ("iban DE89 3704 0044 0532 0130 00 ok", ("en",), "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
        (
            "meine nummer ist null drei null eins zwei drei vier fünf sechs sieben danke",
            ("de",),
            "PHONE_NUMBER",
            "null drei null eins zwei drei vier fünf sechs sieben",
        ),
        ("steuer id 86095742719 bitte", ("de",), "NATIONAL_ID", "86095742719"),
        (
            "my account number is one two three four five six seven",
            ("en",),
            "DIGIT_SEQUENCE",
            "one two three four five six seven",
        ),
        (
            "mi tarjeta es cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno",
            ("es",),
            "CREDIT_CARD",
            "cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno",
        ),
    ],
)
def test_each_entity_is_found_on_exactly_its_words(
    text: str, languages: tuple[str, ...], entity: str, said: str
) -> None:
    assert spans_of(text, languages) == [(entity, said)]


def test_numbers_that_are_not_personal_data_are_left_alone() -> None:
    # Years, counts and prices, and "at ... dot com" that is not an address
    assert spans_of("look at that dot com bubble in 1999 we had 25 people and paid 120 each") == []


@pytest.mark.parametrize(
    "text",
    ["the house cost 450 000 dollars", "i was born on 12 05 1980", "das haus kostete 1.250.000 euro"],
)
def test_written_amounts_and_dates_are_not_digit_sequences(text: str) -> None:
    assert spans_of(text, ("en", "de")) == []


def test_an_account_number_written_in_groups_is_still_a_digit_sequence() -> None:
    assert spans_of("account 9912 4456 98 please") == [("DIGIT_SEQUENCE", "9912 4456 98")]


def test_a_span_has_the_audio_times_of_its_first_and_last_word() -> None:
    words = f"hello {CARD} bye".split()
    times = [(i * 1.0, i * 1.0 + 0.5) for i in range(len(words))]
    (span,) = pii.find_spans(words, times)
    assert (span.first, span.last, span.start, span.end) == (1, 16, 1.0, 16.5)


def test_redact_leaves_no_digit_run_in_any_text_and_lists_the_spans() -> None:
    # Given a transcript with a spoken card number and a written phone number
    original = document(f"hello my card is {CARD} and my phone is 2025550123 good morning")
    # When it is redacted
    result = redaction.apply(original, "redact")
    # Then no text holds the digits, spoken or written
    texts = [
        result["text"],
        *(s["text"] for s in result["segments"]),
        *(w["word"] for s in result["segments"] for w in s["words"]),
        *(w["word"] for w in result["words"]),
    ]
    assert not any(DIGIT_RUN.search(t) for t in texts)
    assert not DIGIT_WORDS & {w.lower() for t in texts for w in t.split()}
    assert "[CREDIT_CARD]" in result["text"] and "[PHONE_NUMBER]" in result["text"]
    # And the spans are listed with their types and times, counted by type
    found = [(r["type"], r["start"]) for r in result["redactions"]]
    assert found == [("CREDIT_CARD", 2.0), ("PHONE_NUMBER", 12.0)]  # word 4 and word 24, 0.5 s apart
    assert result["redaction"]["entities"] == {"CREDIT_CARD": 1, "PHONE_NUMBER": 1}
    # And the document is still a valid transcript (the placeholder spans the entity's time)
    parsed = TranscriptDocument.model_validate(result)
    card = next(w for w in parsed.words if w.word == "[CREDIT_CARD]")
    assert (card.start, card.end) == (2.0, 9.9)
    # And the input document is untouched (it is the unredacted copy)
    assert CARD in original["text"]


def test_tag_marks_the_words_and_keeps_the_text() -> None:
    original = document(f"my card is {CARD}")
    result = redaction.apply(original, "tag")
    assert result["text"] == original["text"]
    assert [w.get("pii") for w in result["words"]] == [None] * 3 + ["CREDIT_CARD"] * 16
    assert result["redaction"]["mode"] == "tag" and len(result["redactions"]) == 1


def test_off_returns_the_document_as_it_is() -> None:
    original = document(f"my card is {CARD}")
    assert redaction.apply(original, "off") is original


def test_without_a_name_model_the_transcript_says_names_were_not_looked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(pii.NER_MODEL_ENV, raising=False)
    result = redaction.apply(document("hello john smith"), "redact")
    assert result["redaction"]["names_detected"] is False
    assert redaction.NAMES_WARNING in result["warnings"]


def test_with_a_name_model_a_spoken_name_is_redacted_in_text_and_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import spacy  # presidio-analyzer's dependency (gpu_job/requirements.txt)

    # Given a spaCy pipeline on disk that tags "john smith" PER, as the baked xx_ent_wiki_sm labels people
    # (built here: the real model cannot be downloaded offline; the loading and mapping path is the same)
    nlp = spacy.blank("xx")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PER", "pattern": "john smith"}])
    nlp.to_disk(tmp_path / "names")
    monkeypatch.setenv(pii.NER_MODEL_ENV, str(tmp_path / "names"))
    # When a transcript that says the name is redacted
    result = redaction.apply(document("hello john smith speaking"), "redact")
    # Then names were looked for, the name is gone from the text and its words are one PERSON placeholder
    assert result["redaction"]["names_detected"] is True
    assert redaction.NAMES_WARNING not in result.get("warnings", [])
    assert "john" not in result["text"] and "smith" not in result["text"]
    assert [r["type"] for r in result["redactions"]] == ["PERSON"]
    assert [w["word"] for w in result["words"]] == ["hello", "[PERSON]", "speaking"]


def test_split_channels_are_analysed_apart() -> None:
    # Given two channels whose words interleave in time: neither channel alone says a card number
    left = [{**w, "channel": 0} for w in timed("four one one one one one one one", step=1.0)]
    right = [
        {**w, "start": w["start"] + 0.5, "end": w["end"] + 0.5, "channel": 1}
        for w in timed("one one one one one one one one", step=1.0)
    ]
    words = sorted(left + right, key=lambda w: w["start"])
    doc = {"words": words, "segments": [], "text": "", "language": "en"}
    result = redaction.apply(doc, "redact")
    # Then each channel's run of 8 digits is its own DIGIT_SEQUENCE, not one 16-digit card
    assert sorted((r["type"], r["channel"]) for r in result["redactions"]) == [
        ("DIGIT_SEQUENCE", 0),
        ("DIGIT_SEQUENCE", 1),
    ]


# -- the settings --------------------------------------------------------------------------------
def test_redaction_setting_defaults_to_off_and_rejects_other_values() -> None:
    assert Settings.from_env({}).redaction == "off" and Settings.from_env({}).redact_audio is False
    assert Settings.from_env({"REDACTION": "redact", "REDACT_AUDIO": "true"}).redact_audio is True
    with pytest.raises(ValueError, match="REDACTION"):
        Settings.from_env({"REDACTION": "mask"})
    with pytest.raises(ValueError, match="REDACT_AUDIO"):
        Settings.from_env({"REDACT_AUDIO": "maybe"})


STACK = Settings.from_env(
    {
        "REDACTION": "tag",
        "REDACTION_BY_PREFIX": "calls/=redact,calls/internal/=off",
        "REDACT_AUDIO_BY_PREFIX": "calls/=true",
    }
)


@pytest.mark.parametrize(
    ("tags", "key", "expected"),
    [
        ({}, "meetings/a.wav", ("tag", False)),  # the stack defaults
        ({}, "calls/a.wav", ("redact", True)),  # the prefix rules
        ({}, "calls/internal/a.wav", ("off", True)),  # the longest prefix wins
        ({"Redaction": " Redact ", "redact-audio": "TRUE"}, "meetings/a.wav", ("redact", True)),  # tags win
        ({"redaction": "tag", "redact-audio": "false"}, "calls/a.wav", ("tag", False)),
    ],
)
def test_the_upload_settings_rule_chooses_the_redaction(
    tags: dict[str, str], key: str, expected: tuple[Any, Any]
) -> None:
    from probe_audio.tags import redact_audio_from_tags, redaction_from_tags

    assert (redaction_from_tags(tags, key, STACK), redact_audio_from_tags(tags, key, STACK)) == expected


def test_untagged_uploads_of_a_default_stack_are_not_redacted() -> None:
    from probe_audio.tags import redact_audio_from_tags, redaction_from_tags

    default = Settings.from_env({})
    assert (redaction_from_tags({}, "a.wav", default), redact_audio_from_tags({}, "a.wav", default)) == (
        "off",
        False,
    )


@pytest.mark.parametrize("tags", [{"redaction": "mask"}, {"redact-audio": "yes"}])
def test_a_bad_redaction_tag_is_bad_input_naming_the_tag(tags: dict[str, str]) -> None:
    from probe_audio.tags import redact_audio_from_tags, redaction_from_tags

    (name,) = tags
    with pytest.raises(UnsupportedInput, match=name):
        redaction_from_tags(tags, "a.wav", STACK)
        redact_audio_from_tags(tags, "a.wav", STACK)


def test_a_bad_prefix_rule_is_the_stacks_misconfiguration_naming_the_setting() -> None:
    from probe_audio.tags import redaction_from_tags

    broken = Settings.from_env({"REDACTION_BY_PREFIX": "calls/=mask"})
    with pytest.raises(ValueError, match="redaction prefix calls/") as raised:
        redaction_from_tags({}, "calls/a.wav", broken)
    assert not isinstance(raised.value, UnsupportedInput)


# -- the audio copy --------------------------------------------------------------------------------
def stereo_wav(seconds: float, rate: int = 22050) -> io.BytesIO:
    tone = (np.sin(np.arange(int(rate * seconds)) * 0.05) * 10000).astype(np.int16)
    body = io.BytesIO()
    with wave.open(body, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.stack([tone, tone], 1).tobytes())
    body.seek(0)
    return body


def test_the_audio_copy_is_silent_over_each_padded_span_and_untouched_elsewhere() -> None:
    rate = 22050
    source = stereo_wav(3.0, rate)
    original = source.getvalue()
    flac = redacted_flac(source, [{"start": 1.0, "end": 1.5}])
    with av.open(io.BytesIO(flac)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.sample_rate, stream.channels) == ("flac", rate, 2)
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])[::2]
    assert len(samples) == 3 * rate
    assert np.abs(samples[int((1.0 - PAD_S) * rate) : int((1.5 + END_PAD_S) * rate)]).max() == 0
    assert np.abs(samples[: int((1.0 - PAD_S) * rate) - 1]).max() > 5000
    assert np.abs(samples[int((1.5 + END_PAD_S) * rate) + 1 :]).max() > 5000
    assert source.getvalue() == original  # the upload is only read


def test_touching_spans_are_silenced_as_one_window() -> None:
    spans = [{"start": 1.0, "end": 1.2}, {"start": 1.4, "end": 2.0}, {"start": 5.0, "end": 5.5}]
    assert silence_windows(spans, pad_s=0.15, end_pad_s=0.15) == [(0.85, 2.15), (4.85, 5.65)]
    assert silence_windows(spans, pad_s=0.1, end_pad_s=0.5) == [(0.9, 2.5), (4.9, 6.0)]
