"""Specification of the transcript's language: per document, per segment, with a confidence.

The sentences here are not the benchmark's (benchmarks/data/language_id_sentences.tsv): they are a
second, independent sample, one per language, of the length of a transcript segment or two.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from pipeline.transcript import TranscriptDocument

from gpu_job import language
from gpu_job.language import LanguageGuess, decide, detect, detect_document, detect_language
from gpu_job.transcript import PhaseSeconds, build_document

ONE_SENTENCE_PER_LANGUAGE = {
    "bg": "Вчера следобед отидохме с децата в парка и после вечеряхме у баба им.",
    "cs": "Včera odpoledne jsme šli s dětmi do parku a potom jsme večeřeli u babičky.",
    "da": "I går eftermiddags gik vi i parken med børnene og spiste bagefter aftensmad hos deres bedstemor.",
    "de": "Gestern Nachmittag sind wir mit den Kindern in den Park gegangen und danach zur Oma.",
    "el": "Χθες το απόγευμα πήγαμε με τα παιδιά στο πάρκο και μετά φάγαμε βραδινό στη γιαγιά τους.",
    "en": "Yesterday afternoon we took the children to the park and then had dinner at their gran's.",
    "es": "Ayer por la tarde fuimos al parque con los niños y después cenamos en casa de su abuela.",
    "et": "Eile pärastlõunal käisime lastega pargis ja pärast sõime nende vanaema juures õhtust.",
    "fi": "Eilen iltapäivällä menimme lasten kanssa puistoon ja söimme sitten isoäidin luona.",
    "fr": "Hier après-midi, nous sommes allés au parc avec les enfants, puis chez leur grand-mère.",
    "hr": "Jučer poslijepodne išli smo s djecom u park, a poslije smo večerali kod njihove bake.",
    "hu": "Tegnap délután a gyerekekkel a parkba mentünk, utána pedig a nagymamájuknál vacsoráztunk.",
    "it": "Ieri pomeriggio siamo andati al parco con i bambini e poi abbiamo cenato dalla nonna.",
    "lt": "Vakar po pietų su vaikais nuėjome į parką, o paskui vakarieniavome pas jų močiutę.",
    "lv": "Vakar pēcpusdienā mēs ar bērniem gājām uz parku un pēc tam vakariņojām pie viņu vecmāmiņas.",
    "mt": "Ilbieraħ wara nofsinhar morna l-ġnien mat-tfal u wara kilna l-ikla ta' filgħaxija għand in-nanna.",
    "nl": "Gistermiddag zijn we met de kinderen naar het park gegaan en daarna hebben we bij oma gegeten.",
    "pl": "Wczoraj po południu poszliśmy z dziećmi do parku, a potem zjedliśmy kolację u ich babci.",
    "pt": "Ontem à tarde fomos ao parque com as crianças e depois jantámos em casa da avó delas.",
    "ro": "Ieri după-amiază am mers cu copiii în parc și apoi am luat cina la bunica lor.",
    "ru": "Вчера днём мы ходили с детьми в парк, а потом ужинали у их бабушки.",
    "sk": "Včera popoludní sme išli s deťmi do parku a potom sme večerali u ich babky.",
    "sl": "Včeraj popoldne smo šli z otroki v park, potem pa smo večerjali pri njihovi babici.",
    "sv": "I går eftermiddag gick vi till parken med barnen och åt sedan middag hos deras mormor.",
    "uk": "Учора вдень ми ходили з дітьми до парку, а потім вечеряли в їхньої бабусі.",
}
ENGLISH = [
    "Good morning everyone, and thank you for joining the quarterly review.",
    "We will start with the sales figures and then move on to the hiring plan.",
    "The second quarter was better than we expected in every region.",
]
GERMAN = [
    "Guten Morgen zusammen, und vielen Dank, dass Sie heute dabei sind.",
    "Wir beginnen mit den Verkaufszahlen und sprechen danach über die Einstellungen.",
    "Das zweite Quartal war in allen Regionen besser als erwartet.",
]


def test_the_configured_detector_answers_exactly_the_models_25_languages() -> None:
    # Given the model's language list, when the detector is configured, then it knows all and only those.
    assert len(set(language.MODEL_LANGUAGES)) == 25
    assert language.supported_languages() == frozenset(language.MODEL_LANGUAGES)
    assert set(ONE_SENTENCE_PER_LANGUAGE) == set(language.MODEL_LANGUAGES)


@pytest.mark.parametrize(("expected", "sentence"), sorted(ONE_SENTENCE_PER_LANGUAGE.items()))
def test_a_sentence_in_each_of_the_25_languages_is_identified_with_confidence(expected, sentence) -> None:
    # Given one spoken-style sentence, when detected, then its language comes back, confidently.
    guess = detect(sentence)
    assert guess.language == expected
    assert guess.confidence is not None and language.MIN_CONFIDENCE <= guess.confidence <= 1.0


def test_the_confidence_is_the_answers_probability_among_the_25_languages() -> None:
    # Given a segment, when ranked, then the probabilities sum to one and the answer's is its confidence.
    text = "Wir beginnen mit den Verkaufszahlen."
    ranking = language.rank(text)
    assert {lang for lang, _ in ranking} == set(language.MODEL_LANGUAGES)
    assert math.isclose(sum(p for _, p in ranking), 1.0, rel_tol=1e-4)
    assert detect(text) == LanguageGuess(ranking[0][0], ranking[0][1], language.count_letters(text))


@pytest.mark.parametrize("text", ["", "   ", "ok", "Ja.", "Sí, sí.", "12:30 – 14:45", "…", "Mhm, ja."])
def test_empty_or_very_short_text_is_undetermined_not_guessed(text) -> None:
    # Given too few letters to judge, when detected, then language and confidence are None.
    assert language.count_letters(text) < language.MIN_LETTERS
    assert detect(text) == LanguageGuess(None, None, language.count_letters(text))
    assert detect_language(text) is None


def test_a_best_language_below_the_minimum_confidence_is_undetermined() -> None:
    # Given enough letters but a weak winner, when decided, then no answer; a strong winner is answered.
    letters = 5 * language.MIN_LETTERS
    assert decide(letters, [("cs", language.MIN_CONFIDENCE - 0.01), ("sk", 0.4)]).language is None
    assert decide(letters, [("cs", 0.93), ("sk", 0.07)]) == LanguageGuess("cs", 0.93, letters)


def test_a_monolingual_document_has_one_language_and_is_not_mixed() -> None:
    # Given an English transcript's segments, when detected, then English throughout, share 1, not mixed.
    result = detect_document(ENGLISH)
    assert result.language == "en"
    assert result.confidence is not None and result.confidence >= language.MIN_CONFIDENCE
    assert [(s.language, s.share) for s in result.languages] == [("en", 1.0)]
    assert result.mixed is False
    assert [g.language for g in result.segments] == ["en", "en", "en"]


def test_a_file_half_in_english_half_in_german_is_mixed_and_names_both() -> None:
    # Given segments alternating between two languages, when detected, then both are listed, and mixed.
    segments = [s for pair in zip(ENGLISH, GERMAN, strict=True) for s in pair]
    result = detect_document(segments)
    assert [g.language for g in result.segments] == ["en", "de"] * 3
    assert {s.language for s in result.languages} == {"en", "de"}
    assert all(0.3 < s.share < 0.7 for s in result.languages)
    assert result.mixed is True
    assert result.language in {"en", "de"}


def test_one_short_foreign_phrase_in_a_long_file_does_not_make_it_mixed() -> None:
    # Given a German meeting with one English "okay, thank you", when detected, then German, not mixed.
    segments = [*GERMAN, "Okay, thank you so much.", *GERMAN]
    result = detect_document(segments)
    assert result.language == "de"
    assert result.languages[0].language == "de" and result.languages[0].share > 0.8
    assert result.mixed is False


def test_a_document_of_nothing_but_noise_words_is_undetermined() -> None:
    # Given no segments, or only segments too short to judge, then no language, no shares, not mixed.
    for segments in ([], ["Mhm."], ["ok", "ja", "Mhm."]):
        result = detect_document(segments)
        assert (result.language, result.confidence, result.languages, result.mixed) == (None, None, (), False)


def _words(*sentences: str) -> list[dict[str, Any]]:
    """Word dicts 0.3 s apart, a 1 s pause (a segment boundary) between sentences."""
    words, t = [], 0.0
    for sentence in sentences:
        for word in sentence.split():
            words.append({"start": round(t, 3), "end": round(t + 0.25, 3), "word": word})
            t += 0.3
        t += 1.0
    return words


def test_the_transcript_document_carries_per_segment_and_document_language(transcript_validator) -> None:
    # Given words of two English then two German sentences, when the document is built, then each segment
    # has its language and confidence, the document its language, shares and mixed flag, and the
    # document still matches the schema and the typed contract.
    words = _words(*ENGLISH[:2], *GERMAN[:2])
    document = build_document(
        source={"uri": "s3://in/a.wav", "etag": "e", "size": 1},
        media={"duration_s": words[-1]["end"] + 1, "codec": "pcm_s16le", "sample_rate": 16000, "channels": 1},
        model={"name": "m", "revision": None},
        mode="full",
        chunking=None,
        words=words,
        timings=PhaseSeconds(),
        hardware={"device": "cpu"},
    )
    assert [(s["language"], s["language_confidence"] > 0.5) for s in document["segments"]] == [
        ("en", True),
        ("en", True),
        ("de", True),
        ("de", True),
    ]
    assert document["language"] in {"en", "de"} and 0 < document["language_confidence"] <= 1
    assert {s["language"] for s in document["languages"]} == {"en", "de"}
    assert document["mixed_language"] is True
    transcript_validator(document)
    TranscriptDocument.model_validate(document)
