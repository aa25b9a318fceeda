"""The transcript's language, per document and per segment, with a confidence.

Parakeet-TDT-0.6B-v3 transcribes 25 European languages but reports none, so the language is
identified from the text it wrote. The identifier is py3langid (a maintained fork of langid.py: a
naive Bayes model over byte n-grams, a 4.6 MB pure-Python wheel needing only numpy, ~1 s to load,
~0.03 ms a sentence), restricted to the model's 25 languages so that it never answers a language
the model cannot have written. lingua-language-detector was measured against it and not chosen: it
has no Maltese, its wheel is 96 MB and its preloaded models take ~0.6 GB (benchmarks/language_id.py,
benchmarks/README.md#language-identification-language_idpy).

The confidence is py3langid's probability of the answer among the 25 languages (its scores go
through a softmax tempered by the square root of the text's length, so a few words do not come out
certain). An answer needs evidence: text with fewer than `MIN_LETTERS` letters, or whose best
language has a probability below `MIN_CONFIDENCE`, is undetermined (language and confidence None),
never a guess. Short segments ("okay", "Ja.") are therefore often undetermined; that is the honest
answer, and the document-level language still comes from all of the text.

A file is mixed-language when, of the letters in segments whose language was determined, a second
language holds at least `MIXED_MIN_SHARE` and at least `MIXED_MIN_LETTERS` letters: one misjudged
short segment in a long monolingual file is not a second language.

Expected languages (pipeline.languages, docs/LANGUAGES.md): when the upload names some, the answer
is chosen among them only: py3langid's probabilities are a softmax over its languages, so restricting
to a subset is the subset's probabilities renormalised (exactly what `set_languages` would give,
without a second model). That settles close pairs the user has ruled out (Slovak never read as Czech).
The model may still have written another language (it cannot be forced), and restricting would then
relabel it silently; so a text to which the 25-language identifier gives the expected languages
together less than `EXPECTED_MIN_PROBABILITY` is outside: it keeps the identifier's own answer (or
none, when that is unsure too) and the transcript names it in `warnings`. A close call between an
expected language and its neighbour (Slovak 45 %, Czech 55 %) stays inside and goes to Slovak.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipeline.languages import MODEL_LANGUAGES as MODEL_LANGUAGES  # re-exported (benchmarks)

MIN_LETTERS = 10
MIN_CONFIDENCE = 0.5
MIXED_MIN_SHARE = 0.2
MIXED_MIN_LETTERS = 60
EXPECTED_MIN_PROBABILITY = 0.1
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)

Ranking = Sequence[tuple[str, float]]  # (language, probability), best first


@dataclass(frozen=True)
class LanguageGuess:
    """One text's language; both fields None when it is undetermined."""

    language: str | None
    confidence: float | None
    letters: int

    def segment_fields(self) -> dict[str, Any]:
        return {"language": self.language, "language_confidence": _rounded(self.confidence)}


UNDETERMINED_EMPTY = LanguageGuess(None, None, 0)


@dataclass(frozen=True)
class LanguageShare:
    language: str
    share: float


@dataclass(frozen=True)
class DocumentLanguage:
    """The document's language (from all of its text), what share of the determined segment
    letters each language holds, and whether that makes the file mixed-language."""

    language: str | None
    confidence: float | None
    languages: tuple[LanguageShare, ...]
    mixed: bool
    segments: tuple[LanguageGuess, ...]
    expected: tuple[str, ...] = ()  # what the answers were restricted to; () any language
    outside: tuple[int, ...] = ()  # segments that read as a language outside `expected`
    document_outside: bool = False  # the whole text does

    def document_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "language": self.language,
            "language_confidence": _rounded(self.confidence),
            "languages": [{"language": s.language, "share": round(s.share, 3)} for s in self.languages],
            "mixed_language": self.mixed,
        }
        if self.expected:
            fields["expected_languages"] = list(self.expected)
        return fields


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def count_letters(text: str) -> int:
    return len(_LETTER.findall(text))


def decide(letters: int, ranking: Ranking) -> LanguageGuess:
    """Apply the evidence rules to a ranking from any identifier (the benchmark reuses this)."""
    if letters < MIN_LETTERS or not ranking:
        return LanguageGuess(None, None, letters)
    language, probability = ranking[0]
    if probability < MIN_CONFIDENCE:
        return LanguageGuess(None, None, letters)
    return LanguageGuess(language, float(probability), letters)


@cache
def _identifier() -> Any:
    """py3langid's model restricted to the 25 languages; loaded once per process (~1 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(MODEL_LANGUAGES))
    return identifier


def supported_languages() -> frozenset[str]:
    """The languages the configured identifier can answer."""
    return frozenset(_identifier().labels)


def rank(text: str) -> list[tuple[str, float]]:
    """Every supported language with its probability for `text`, best first."""
    return [(lang, float(p)) for lang, p in _identifier().rank(text)]


def detect(text: str) -> LanguageGuess:
    letters = count_letters(text)
    if letters < MIN_LETTERS:
        return LanguageGuess(None, None, letters)
    return decide(letters, rank(text)[:1])


def restrict(ranking: Ranking, expected: Sequence[str]) -> list[tuple[str, float]]:
    """The ranking among `expected` only, probabilities renormalised over them (best first)."""
    kept = [(lang, p) for lang, p in ranking if lang in expected]
    total = sum(p for _, p in kept)
    return [(lang, p / total) for lang, p in kept] if total > 0 else []


def detect_expected(text: str, expected: Sequence[str]) -> tuple[LanguageGuess, bool]:
    """`text`'s language among `expected`; the flag says the text reads as none of them.

    Outside: the 25-language identifier gives the expected languages together less than
    EXPECTED_MIN_PROBABILITY. Then the answer is its own best language (undetermined when that is not
    sure either), never an expected one."""
    letters = count_letters(text)
    if letters < MIN_LETTERS:
        return LanguageGuess(None, None, letters), False
    ranking = rank(text)
    if sum(p for lang, p in ranking if lang in expected) < EXPECTED_MIN_PROBABILITY:
        return decide(letters, ranking[:1]), True
    return decide(letters, restrict(ranking, expected)[:1]), False


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`'s language, or None when the evidence is too thin."""
    return detect(text).language


def shares(guesses: Sequence[LanguageGuess]) -> tuple[LanguageShare, ...]:
    """Each determined language's share of the determined letters, largest first."""
    letters: Counter[str] = Counter()
    for guess in guesses:
        if guess.language is not None:
            letters[guess.language] += guess.letters
    total = sum(letters.values())
    return tuple(LanguageShare(lang, n / total) for lang, n in letters.most_common())


def is_mixed(guesses: Sequence[LanguageGuess]) -> bool:
    ranked = shares(guesses)
    if len(ranked) < 2:
        return False
    second = ranked[1].language
    second_letters = sum(g.letters for g in guesses if g.language == second)
    return ranked[1].share >= MIXED_MIN_SHARE and second_letters >= MIXED_MIN_LETTERS


def detect_document(
    segment_texts: Sequence[str],
    detect_text: Callable[[str], LanguageGuess] = detect,
    expected: Sequence[str] = (),
) -> DocumentLanguage:
    """Language of every segment and of the whole text (joined), shares and the mixed flag; with
    `expected`, restricted to those languages (`detect_expected`), and which texts fall outside."""
    if expected:
        guesses = [detect_expected(text, expected) for text in segment_texts]
        document, document_outside = detect_expected(" ".join(segment_texts), expected)
        segments = tuple(g for g, _ in guesses)
        outside = tuple(i for i, (_, out) in enumerate(guesses) if out)
    else:
        segments = tuple(detect_text(text) for text in segment_texts)
        document = detect_text(" ".join(segment_texts)) if segment_texts else UNDETERMINED_EMPTY
        document_outside, outside = False, ()
    return DocumentLanguage(
        language=document.language,
        confidence=document.confidence,
        languages=shares(segments),
        mixed=is_mixed(segments),
        segments=segments,
        expected=tuple(expected),
        outside=outside,
        document_outside=document_outside,
    )


def _reads_as(guess: LanguageGuess) -> str:
    if guess.language is None:
        return "no language surely"
    return f"{guess.language} ({guess.confidence or 0:.0%})"


def outside_warnings(result: DocumentLanguage, segments: Sequence[dict[str, Any]]) -> list[str]:
    """One warning per segment (and for the whole text) that reads as none of the expected languages:
    where it is and what it reads as, so nobody takes its label for a relabelled guess."""
    expected = ", ".join(result.expected)
    out = []
    if result.document_outside:
        document = LanguageGuess(result.language, result.confidence, 0)
        out.append(
            f"the transcript reads as {_reads_as(document)}, not as one of the expected languages "
            f"({expected}); its language is not relabelled"
        )
    for i in result.outside:
        guess, segment = result.segments[i], segments[i]
        out.append(
            f"segment {segment['id']} ({segment['start']:.2f}-{segment['end']:.2f} s) reads as "
            f"{_reads_as(guess)}, not as one of the expected languages ({expected}); "
            "its language is not relabelled"
        )
    return out
