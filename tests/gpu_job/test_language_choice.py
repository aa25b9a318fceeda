"""Language ID restricted to the upload's expected languages (docs/LANGUAGES.md): the answer is one of
them, unless the text reads as none of them; then it keeps its own language and the transcript says so
in `warnings`, never relabelling it silently."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from gpu_job import language
from gpu_job.transcript import PhaseSeconds, build_document
from tests.gpu_job.test_language import ONE_SENTENCE_PER_LANGUAGE as SENTENCE


def test_a_close_call_goes_to_the_expected_language() -> None:
    # Given text the 25-language identifier gives to Croatian, with Slovenian a real second
    text = "dobro jutro prijatelji"
    ranking = dict(language.rank(text))
    assert language.detect(text).language == "hr" and ranking["sl"] >= language.EXPECTED_MIN_PROBABILITY
    # When Slovenian is the one expected language / Then it is Slovenian, not flagged
    guess, outside = language.detect_expected(text, ["sl"])
    assert (guess.language, outside) == ("sl", False)


def test_restricting_renormalises_the_probabilities_over_the_expected_languages() -> None:
    ranking = language.rank(SENTENCE["es"])
    restricted = language.restrict(ranking, ["es", "pt", "it"])
    assert restricted[0][0] == "es" and {lang for lang, _ in restricted} == {"es", "pt", "it"}
    assert sum(p for _, p in restricted) == pytest.approx(1.0)


def test_text_in_another_language_keeps_its_language_and_is_flagged() -> None:
    guess, outside = language.detect_expected(SENTENCE["fr"], ["en", "de"])
    assert (guess.language, outside) == ("fr", True)


def test_short_text_is_undetermined_and_never_flagged() -> None:
    guess, outside = language.detect_expected("ok", ["en"])
    assert (guess.language, outside) == (None, False)


def words_of(*sentences: str) -> list[dict[str, Any]]:
    """Timed words of whole sentences (each ends in a full stop: one segment per sentence)."""
    words, t = [], 0.0
    for sentence in sentences:
        for word in sentence.split():
            words.append({"start": round(t, 3), "end": round(t + 0.3, 3), "word": word})
            t += 0.4
        t += 1.0
    return words


def document(expected: list[str] | None, *texts: str) -> dict[str, Any]:
    return build_document(
        source={"uri": "file:///x.wav", "etag": None, "size": 1},
        media={"duration_s": 60.0, "codec": "pcm", "sample_rate": 16000, "channels": 1},
        model={"name": "m", "revision": None},
        mode="full",
        chunking=None,
        words=words_of(*texts),
        timings=PhaseSeconds(),
        hardware={"device": "cpu"},
        expected_languages=expected,
    )


def test_a_segment_outside_the_expected_languages_is_named_in_the_warnings(transcript_validator: Any) -> None:
    # Given an English recording with one French sentence, English expected
    doc = document(["en"], SENTENCE["en"], SENTENCE["fr"], SENTENCE["en"])
    transcript_validator(doc)
    # Then the document is English, the French segment says French, and one warning names it
    assert doc["language"] == "en" and doc["expected_languages"] == ["en"]
    assert [s["language"] for s in doc["segments"]] == ["en", "fr", "en"]
    (warning,) = doc["warnings"]
    segment = doc["segments"][1]
    assert warning.startswith(f"segment 1 ({segment['start']:.2f}-{segment['end']:.2f} s) reads as fr")
    assert "expected languages (en)" in warning


def test_without_expected_languages_nothing_is_flagged() -> None:
    doc = document(None, SENTENCE["en"], SENTENCE["fr"])
    assert doc["warnings"] == [] and "expected_languages" not in doc


def test_a_whole_transcript_in_another_language_is_flagged_too() -> None:
    doc = document(["de"], SENTENCE["sv"])
    assert doc["language"] == "sv" and len(doc["warnings"]) == 2
    assert doc["warnings"][0].startswith("the transcript reads as sv")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng makes the speech")
def test_the_job_restricts_language_id_to_the_request(
    speech_model: Any, tmp_path: Any, s3: Any, transcript_validator: Any
) -> None:
    from pipeline.contracts import TranscriptionRequest, UploadedObject

    from gpu_job import api
    from tests.gpu_job import channel_support as cs

    # Given corpus speech (English words: the tiny speech model's corpus, docs/TINY_MODEL.md)
    (utt,) = cs.utterances(1, tmp_path / "cache")
    body = cs.write_mono(tmp_path / "speech.wav", utt.audio).read_bytes()  # type: ignore[attr-defined]
    etag = s3.put_object(Bucket="media-in", Key="speech.wav", Body=body)["ETag"].strip('"')
    source = UploadedObject(
        bucket="media-in", key="speech.wav", etag=etag, size=len(body), uri="s3://media-in/speech.wav"
    )

    def transcribed(expected: list[str]) -> dict[str, Any]:
        request = TranscriptionRequest(
            source=source, output_prefix="s3://out/t/", mode="batched", expected_languages=expected
        )
        doc = api.transcribe_request(request, speech_model)
        transcript_validator(doc)
        return doc

    # When the request expects English / Then the English text is English and nothing is flagged
    english = transcribed(["en"])
    assert english["expected_languages"] == ["en"] and english["language"] == "en"
    assert english["warnings"] == []
    # When it expects German only / Then the text keeps English (never relabelled German) and every
    # segment that reads as English is named in the warnings
    german = transcribed(["de"])
    assert german["expected_languages"] == ["de"] and german["language"] == "en"
    kept = [s for s in german["segments"] if s["language"] == "en"]
    named = [w for w in german["warnings"] if "not as one of the expected languages (de)" in w]
    assert kept and len(named) == len(kept) + 1  # + the whole transcript
    assert not any(s["language"] == "de" for s in german["segments"])


def test_the_command_line_takes_languages_else_the_setting(monkeypatch: Any) -> None:
    from gpu_job.cli import _jobs

    monkeypatch.setenv("EXPECTED_LANGUAGES", "en")
    (job,), _ = _jobs(["transcribe", "a.wav", "--languages", "DE+fr"])
    assert job.expected_languages == ["de", "fr"]
    (job,), _ = _jobs(["transcribe", "a.wav", "--languages", "any"])
    assert job.expected_languages is None
    (job,), _ = _jobs(["--input", "a.wav", "--output", "/tmp/o/"])
    assert job.expected_languages == ["en"]


def test_an_unknown_language_on_the_command_line_is_a_usage_error(capsys: Any) -> None:
    from gpu_job.cli import _jobs

    with pytest.raises(SystemExit) as exited:
        _jobs(["transcribe", "a.wav", "--languages", "en+xx"])
    assert exited.value.code == 2 and "xx" in capsys.readouterr().err
