"""Find personal data in a transcript's words, as word ranges with audio times (docs/REDACTION.md).

An ASR transcript says "four one one one ..." where a form says 4111..., and "john at example dot
com" where a mail client says john@example.com. The words are first rewritten into *units* (a run
of spoken or written digits becomes one number, a spoken address one e-mail), each unit remembering
the words it came from; the units' text is analysed by Microsoft Presidio's pattern recognizers
(Luhn-checked cards, IBAN, e-mail), ``phonenumbers`` (through Presidio's PhoneRecognizer) and
``python-stdnum`` (national IDs with a checksum); a hit's characters map back to units, the units
to words, so every span has a start and an end in seconds.

Why this runs in the gpu_job container and not in the Postprocess Lambda: Presidio's analyzer
imports spaCy (tens of MB with thinc and blis), which would blow the Lambda packages' size budget,
and the production name model (a spaCy NER pipeline, ``PII_NER_MODEL``) is baked into the image
like the Parakeet weights. The container also holds the decoded audio the audio redaction needs.

Person names need a model: when ``PII_NER_MODEL`` names an installed spaCy pipeline its PER/PERSON
entities are added; otherwise names are not looked for, and the caller records that in the
transcript's warnings (tests and the local stack run pattern recognizers only, offline).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

# A run of at least this many digits is redacted even when no recognizer names it (an account or
# customer number read out): shorter runs are amounts, years and times.
LONG_DIGITS_MIN = 6
LONG_DIGITS = "DIGIT_SEQUENCE"
PERSON = "PERSON"
NATIONAL_ID = "NATIONAL_ID"
NER_MODEL_ENV = "PII_NER_MODEL"

# Spoken digits, per language (the ones a speaker uses when reading a number digit by digit).
_DIGIT_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "zero": "0",
        "oh": "0",
        "o": "0",
        "one": "1",
        "two": "2",
        "three": "3",
        "four": "4",
        "five": "5",
        "six": "6",
        "seven": "7",
        "eight": "8",
        "nine": "9",
    },
    "de": {
        "null": "0",
        "eins": "1",
        "ein": "1",
        "zwei": "2",
        "zwo": "2",
        "drei": "3",
        "vier": "4",
        "fünf": "5",
        "sechs": "6",
        "sieben": "7",
        "acht": "8",
        "neun": "9",
    },
    "fr": {
        "zéro": "0",
        "zero": "0",
        "un": "1",
        "une": "1",
        "deux": "2",
        "trois": "3",
        "quatre": "4",
        "cinq": "5",
        "six": "6",
        "sept": "7",
        "huit": "8",
        "neuf": "9",
    },
    "es": {
        "cero": "0",
        "uno": "1",
        "una": "1",
        "dos": "2",
        "tres": "3",
        "cuatro": "4",
        "cinco": "5",
        "seis": "6",
        "siete": "7",
        "ocho": "8",
        "nueve": "9",
    },
    "it": {
        "zero": "0",
        "uno": "1",
        "una": "1",
        "due": "2",
        "tre": "3",
        "quattro": "4",
        "cinque": "5",
        "sei": "6",
        "sette": "7",
        "otto": "8",
        "nove": "9",
    },
    "nl": {
        "nul": "0",
        "een": "1",
        "één": "1",
        "twee": "2",
        "drie": "3",
        "vier": "4",
        "vijf": "5",
        "zes": "6",
        "zeven": "7",
        "acht": "8",
        "negen": "9",
    },
    "pt": {
        "zero": "0",
        "um": "1",
        "uma": "1",
        "dois": "2",
        "duas": "2",
        "três": "3",
        "quatro": "4",
        "cinco": "5",
        "seis": "6",
        "sete": "7",
        "oito": "8",
        "nove": "9",
    },
}
# Words that repeat the next digit ("double four" = 44).
_REPEAT_WORDS = {"double": 2, "triple": 3, "doppel": 2, "doble": 2}
# The word for "@" and for "." in a spoken e-mail address, per language.
_AT_WORDS = {"at", "arobase", "arroba", "chiocciola", "apenstaartje", "klammeraffe", "@"}
_DOT_WORDS = {"dot", "punkt", "point", "punto", "punt", "ponto", "."}
_PLUS_WORDS = {"plus", "più", "más", "mais"}
# Phone regions tried per transcript language (phonenumbers needs a region for national numbers).
_REGIONS: dict[str, tuple[str, ...]] = {
    "en": ("US", "GB", "CA", "AU", "IE"),
    "de": ("DE", "AT", "CH"),
    "fr": ("FR", "BE", "CH"),
    "es": ("ES", "MX", "AR"),
    "it": ("IT",),
    "nl": ("NL", "BE"),
    "pt": ("PT", "BR"),
}
# National identifiers with a checksum (python-stdnum modules) per transcript language, tried on
# every digit/letter run of the transcript.
_NATIONAL_IDS: dict[str, tuple[str, ...]] = {
    "en": ("us.ssn", "gb.nhs"),
    "de": ("de.idnr", "at.vnr", "ch.ssn"),
    "fr": ("fr.nir", "be.nn"),
    "es": ("es.dni", "es.nie"),
    "it": ("it.codicefiscale",),
    "nl": ("nl.bsn", "be.nn"),
    "pt": ("pt.nif", "br.cpf"),
}
# Function words that are never the domain of a spoken address ("look at that dot com").
_NOT_A_DOMAIN = {
    "that",
    "this",
    "the",
    "it",
    "them",
    "him",
    "her",
    "me",
    "you",
    "us",
    "home",
    "least",
    "all",
    "first",
    "last",
    "once",
    "night",
    "work",
}
_PUNCT = ".,;:!?…\"'()[]"
# Written digits shaped like an amount ("450 000", "1.250.000") or a date ("12 05 1980", "12.05.1980") are
# not a DIGIT_SEQUENCE on their own (the recognizers still see them): benchmarks/pii.py measured them as
# most of the false positives. Spoken digit runs never match (they are words).
_AMOUNT_OR_DATE = re.compile(r"[1-9]\d{0,2}(?:[ .,]\d{3})+|\d{1,2}[ ./-]\d{1,2}[ ./-](?:\d{2}|\d{4})")


@dataclass(frozen=True)
class Span:
    """Words ``first``..``last`` (inclusive, indices into the list analysed) hold one entity."""

    entity_type: str
    first: int
    last: int
    score: float
    start: float
    end: float


@dataclass(frozen=True)
class _Unit:
    text: str
    first: int
    last: int


def _bare(word: str) -> str:
    return word.strip(_PUNCT).lower()


def _digit_table(languages: Iterable[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for language in languages:
        table.update(_DIGIT_WORDS.get(language, {}))
    return table


def _digits_of(word: str, table: dict[str, str]) -> str | None:
    """The digits a word stands for ("four" -> 4, "4111," -> 4111, "41-11" -> 4111), else None."""
    bare = _bare(word)
    if bare in table:
        return table[bare]
    compact = re.sub(r"[\s\-/.]", "", bare)
    return compact if compact.isdigit() else None


def _units(words: Sequence[str], languages: Sequence[str]) -> list[_Unit]:
    """Rewrite words into units: digit runs joined (with a leading "+", adjacent capital letters for
    IBANs and IDs), spoken e-mail addresses joined, every other word as it is."""
    table = _digit_table(languages)
    units: list[_Unit] = []
    i = 0
    while i < len(words):
        email = _spoken_email(words, i)
        if email is not None:
            text, last = email
            if units and units[-1].last == i - 1 and _is_local_part(words[i - 1]):
                units.pop()  # the local part was the previous word
                units.append(_Unit(f"{_bare(words[i - 1])}{text}", i - 1, last))
            else:
                units.append(_Unit(words[i], i, i))
                i += 1
                continue
            i = last + 1
            continue
        run, last = _digit_run(words, i, table)
        if run is not None:
            units.append(_Unit(run, i, last))
            i = last + 1
            continue
        units.append(_Unit(words[i], i, i))
        i += 1
    return units


def _is_local_part(word: str) -> bool:
    return re.fullmatch(r"[\w.+\-]+", _bare(word)) is not None


def _spoken_email(words: Sequence[str], i: int) -> tuple[str, int] | None:
    """At an "at" word: "@domain.tld" and the index of its last word, when dot words follow."""
    if _bare(words[i]) not in _AT_WORDS or i == 0:
        return None
    parts: list[str] = []
    j = i + 1
    while j < len(words):
        part = _bare(words[j])
        if not re.fullmatch(r"[a-z0-9\-]+", part):
            break
        parts.append(part)
        if j + 1 < len(words) and _bare(words[j + 1]) in _DOT_WORDS:
            j += 2
            continue
        break
    if len(parts) < 2 or parts[0] in _NOT_A_DOMAIN or not re.fullmatch(r"[a-z]{2,12}", parts[-1]):
        return None
    return "@" + ".".join(parts), i + 2 * len(parts) - 1


def _digit_run(words: Sequence[str], i: int, table: dict[str, str]) -> tuple[str | None, int]:
    """Consecutive digit words from ``i`` as one string (None when ``i`` starts none)."""
    out = ""
    j = i
    prefix = ""
    if _bare(words[i]) in _PLUS_WORDS and i + 1 < len(words) and _digits_of(words[i + 1], table):
        prefix, j = "+", i + 1
    while j < len(words):
        bare = _bare(words[j])
        if bare in _REPEAT_WORDS and j + 1 < len(words):
            digit = _digits_of(words[j + 1], table)
            if digit is not None and len(digit) == 1:
                out += digit * _REPEAT_WORDS[bare]
                j += 2
                continue
        digit = _digits_of(words[j], table)
        if digit is None:
            # Capital letters inside a digit run (IBAN "DE89...", spelled IDs): keep them in the run.
            letters = words[j].strip(_PUNCT)
            if out and letters.isalpha() and letters.isupper() and len(letters) <= 2:
                out += letters
                j += 1
                continue
            break
        out += digit
        j += 1
    if not any(c.isdigit() for c in out):
        return None, i
    return prefix + out, j - 1


class _OfflineEmailRecognizer:
    """Presidio's EmailRecognizer validates the domain with tldextract, whose default extractor
    fetches the public-suffix list over the network; this one uses the list bundled with it."""

    @staticmethod
    def build() -> Any:
        import tldextract
        from presidio_analyzer.predefined_recognizers import EmailRecognizer

        extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

        class Offline(EmailRecognizer):
            def validate_result(self, pattern_text: str) -> bool:
                return extract(pattern_text).fqdn != ""

        return Offline()


@cache
def _recognizers(regions: tuple[str, ...]) -> tuple[Any, ...]:
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
    )

    return (
        CreditCardRecognizer(),
        IbanRecognizer(),
        _OfflineEmailRecognizer.build(),
        PhoneRecognizer(supported_regions=regions),
    )


@cache
def _stdnum_modules(languages: tuple[str, ...]) -> tuple[Any, ...]:
    from stdnum.util import get_cc_module

    modules = []
    for name in dict.fromkeys(n for lang in languages for n in _NATIONAL_IDS.get(lang, ())):
        country, number = name.split(".")
        module = get_cc_module(country, number)
        if module is not None:
            modules.append(module)
    return tuple(modules)


@cache
def _ner(model: str) -> Any | None:
    """The spaCy pipeline named by PII_NER_MODEL, or None when it is not installed in this image."""
    try:
        import spacy

        return spacy.load(model)
    except (ImportError, OSError):
        return None


def names_detectable() -> bool:
    model = os.environ.get(NER_MODEL_ENV, "").strip()
    return bool(model) and _ner(model) is not None


def _text_of(units: Sequence[_Unit]) -> tuple[str, list[tuple[int, int]]]:
    text = ""
    offsets = []
    for unit in units:
        if text:
            text += " "
        offsets.append((len(text), len(text) + len(unit.text)))
        text += unit.text
    return text, offsets


# Where two recognizers claim the same characters, the more specific wins.
_PRIORITY = {
    "CREDIT_CARD": 0,
    "IBAN_CODE": 1,
    "EMAIL_ADDRESS": 2,
    "PHONE_NUMBER": 3,
    NATIONAL_ID: 4,
    PERSON: 5,
    LONG_DIGITS: 6,
}


def find_spans(
    words: Sequence[str],
    times: Sequence[tuple[float, float]],
    languages: Sequence[str] = ("en",),
) -> list[Span]:
    """Entities in ``words`` (one speaker's or channel's words in order), non-overlapping, in order.

    ``languages`` choose the spoken-digit words and phone regions; an unknown language still gets
    written digits, e-mails, cards and IBANs (the patterns are language-independent).
    """
    languages = [lang for lang in languages if lang] or ["en"]
    # English digit words always count: ASR output code-switches for numbers, and a language guess
    # made from a short, digit-heavy text is often wrong.
    known = list(dict.fromkeys([lang for lang in languages if lang in _DIGIT_WORDS] + ["en"]))
    units = _units(words, known)
    text, offsets = _text_of(units)
    hits: list[tuple[str, int, int, float]] = []  # entity, first unit, last unit, score

    def to_units(start: int, end: int) -> tuple[int, int] | None:
        covered = [k for k, (a, b) in enumerate(offsets) if a < end and b > start]
        return (covered[0], covered[-1]) if covered else None

    regions = tuple(dict.fromkeys(r for lang in known for r in _REGIONS.get(lang, ())))
    for recognizer in _recognizers(regions):
        for result in recognizer.analyze(text, recognizer.supported_entities, None):
            found = to_units(result.start, result.end)
            if found:
                hits.append((result.entity_type, *found, float(result.score)))
    national_ids = _stdnum_modules(tuple(known))
    for k, unit in enumerate(units):
        compact = unit.text.lstrip("+")
        if sum(c.isdigit() for c in compact) >= 8 and any(m.is_valid(compact) for m in national_ids):
            hits.append((NATIONAL_ID, k, k, 0.9))
        written = " ".join(w.strip(_PUNCT) for w in words[unit.first : unit.last + 1])
        if sum(c.isdigit() for c in compact) >= LONG_DIGITS_MIN and not _AMOUNT_OR_DATE.fullmatch(written):
            hits.append((LONG_DIGITS, k, k, 0.5))
    model = os.environ.get(NER_MODEL_ENV, "").strip()
    nlp = _ner(model) if model else None
    if nlp is not None:
        for ent in nlp(text).ents:
            if ent.label_ in ("PER", "PERSON"):
                found = to_units(ent.start_char, ent.end_char)
                if found:
                    hits.append((PERSON, *found, 0.85))
    return _resolve(hits, units, times)


def _resolve(
    hits: list[tuple[str, int, int, float]], units: Sequence[_Unit], times: Sequence[tuple[float, float]]
) -> list[Span]:
    """Keep the most specific hit per unit; a wider hit that overlaps a kept one is merged into it."""
    hits.sort(key=lambda h: (_PRIORITY.get(h[0], 9), -(h[2] - h[1]), -h[3]))
    taken: dict[int, int] = {}  # unit -> index in kept
    kept: list[list[Any]] = []
    for entity, first, last, score in hits:
        overlapping = {taken[k] for k in range(first, last + 1) if k in taken}
        if overlapping:
            for index in overlapping:  # widen the kept span to everything this hit covers too
                kept[index][1] = min(kept[index][1], first)
                kept[index][2] = max(kept[index][2], last)
            for k in range(first, last + 1):
                taken.setdefault(k, min(overlapping))
            continue
        kept.append([entity, first, last, score])
        for k in range(first, last + 1):
            taken[k] = len(kept) - 1
    spans = []
    for entity, first, last, score in sorted(kept, key=lambda h: h[1]):
        w_first, w_last = units[first].first, units[last].last
        spans.append(Span(entity, w_first, w_last, round(score, 3), times[w_first][0], times[w_last][1]))
    return _merge_overlaps(spans)


def _merge_overlaps(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in spans:
        if out and span.first <= out[-1].last:
            prev = out[-1]
            out[-1] = Span(
                prev.entity_type,
                prev.first,
                max(prev.last, span.last),
                prev.score,
                prev.start,
                max(prev.end, span.end),
            )
            continue
        out.append(span)
    return out
