"""PII redaction (docs/REDACTION.md): recall per entity type, false positives per 1,000 words, and how well
the redacted audio spans cover the spoken entity.

Usage: nice -n 10 .venv/bin/python benchmarks/pii.py [--per-type 60] [--negatives 300] [--audio 40]
       [--out benchmarks/results/pii.json]

Text: generated transcripts as an ASR model writes them (lower case, digits spoken as words or written as
digits, e-mail addresses spoken with the language's "at" and "dot" or written), in seven languages, each
with one entity between everyday words, plus negative transcripts that hold numbers that are not personal
data (counts, years, times, prices, short digit runs, "one" as a pronoun, "at ... dot" that is no address).
The generators are this file's own (digit words, formats) and the entities are made valid by the
libraries the recognizers use (stdnum's Luhn and IBAN check digits, phonenumbers' validity), so the
benchmark does not share a table with gpu_job.pii. Every document goes through gpu_job.redaction.apply
(mode redact), as the job runs it.

- recall (hidden): the share of entities whose every word lies inside a redacted span, whatever its type:
  what redact protects; recall (typed): the span also has the entity's type.
- false positives per 1,000 words: redacted spans that touch no entity word, per 1,000 words that belong
  to no entity (positives' surrounding words and the negatives).

Audio: English utterances of the tiny speech model's words (scripts/make_speech_corpus.py vocabulary) with
a card number, a phone number or an account number read digit by digit, synthesised the corpus way (one
espeak-ng call per word: every word's time is known to the sample; scripts/rare_words.py). The tiny model
transcribes them through the batched engine (gpu_job.api.transcribe_many), redaction runs on its words,
and each entity's redacted span is compared with the spoken entity's true start and end: the share of
spans that cover it within 0.25 s at both edges is reported, with the edge errors, and the same after the
audio copy's own padding (gpu_job.audio_redaction: PAD_S before, END_PAD_S after), with the share of
entities it silences whole.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

SEED = 19_190
COVER_S = 0.25
GOAL = {"CREDIT_CARD": 0.95, "PHONE_NUMBER": 0.95, "EMAIL_ADDRESS": 0.95}
SPEECH_MODEL = REPO / "tests" / "fixtures" / "models" / "tiny_tdt_speech.nemo"

DIGITS: dict[str, tuple[str, ...]] = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "de": ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
    "es": ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    "fr": ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
    "it": ("zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"),
    "nl": ("nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"),
    "pt": ("zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"),
}
AT_DOT = {
    "en": ("at", "dot"),
    "de": ("at", "punkt"),
    "es": ("arroba", "punto"),
    "fr": ("arobase", "point"),
    "it": ("chiocciola", "punto"),
    "nl": ("apenstaartje", "punt"),
    "pt": ("arroba", "ponto"),
}
PLUS = {"en": "plus", "de": "plus", "es": "más", "fr": "plus", "it": "più", "nl": "plus", "pt": "mais"}
REGIONS = {"en": "US", "de": "DE", "es": "ES", "fr": "FR", "it": "IT", "nl": "NL", "pt": "PT"}
IBAN_COUNTRIES = {"en": "GB", "de": "DE", "es": "ES", "fr": "FR", "it": "IT", "nl": "NL", "pt": "PT"}
FILLER = {
    "en": "so the thing is i called you last week about my order and nobody got back to me can you please "
    "check it for me thanks a lot yes that is right my name is on the account okay",
    "de": "also ich habe letzte woche angerufen wegen meiner bestellung und niemand hat sich gemeldet können "
    "sie das bitte prüfen danke ja genau das konto läuft auf meinen namen gut",
    "es": "entonces llamé la semana pasada por mi pedido y nadie me respondió puede revisarlo por favor "
    "gracias sí exacto la cuenta está a mi nombre vale",
    "fr": "alors j'ai appelé la semaine dernière pour ma commande et personne ne m'a répondu pouvez vous "
    "vérifier s'il vous plaît merci oui c'est ça le compte est à mon nom d'accord",
    "it": "allora ho chiamato la settimana scorsa per il mio ordine e nessuno mi ha risposto può controllare "
    "per favore grazie sì esatto il conto è a mio nome va bene",
    "nl": "dus ik heb vorige week gebeld over mijn bestelling en niemand heeft gereageerd kunt u het "
    "nakijken alstublieft dank u ja precies de rekening staat op mijn naam oké",
    "pt": "então liguei na semana passada sobre a minha encomenda e ninguém me respondeu pode verificar por "
    "favor obrigado sim exato a conta está no meu nome certo",
}
# Numbers that are not personal data, as an ASR model writes them.
NEGATIVES = {
    "en": [
        "we were 25 people in the room",
        "it happened in 1999 and again in 2024",
        "the meeting is at 3 pm on the 12th",
        "it costs 120 dollars or 19.99 a month",
        "room four two is on floor three",
        "this one is better than that one",
        "look at that dot on the screen",
        "i waited two or three days",
        "page 7 line 14",
        "we sold 4500 units last year",
        "that was one two three easy",
        "order number one two three",
        "the house cost 450 000 dollars",
        "i was born on 12 05 1980",
        "call back between 9 and 5 tomorrow",
        "flight 447 leaves at 10 45",
        "version 3.2.1 fixed it",
        "two thousand and twenty four was a good year",
        "the zip code is 10115",
        "my pin is one two three four",
    ],
    "de": [
        "wir waren 25 leute im raum",
        "das war 1999 und wieder 2024",
        "der termin ist um 15 uhr am 12",
        "es kostet 120 euro oder 19,99 im monat",
        "zimmer vier zwei im dritten stock",
        "ich habe zwei oder drei tage gewartet",
        "seite 7 zeile 14",
        "das haus kostete 450 000 euro",
        "ich bin am 12 05 1980 geboren",
        "die postleitzahl ist 10115",
    ],
    "es": [
        "éramos 25 personas en la sala",
        "pasó en 1999 y otra vez en 2024",
        "la reunión es a las 3 el día 12",
        "cuesta 120 euros o 19,99 al mes",
        "esperé dos o tres días",
        "página 7 línea 14",
        "la casa costó 450 000 euros",
        "nací el 12 05 1980",
    ],
    "fr": [
        "nous étions 25 dans la salle",
        "c'était en 1999 et encore en 2024",
        "la réunion est à 15 heures le 12",
        "ça coûte 120 euros ou 19,99 par mois",
        "j'ai attendu deux ou trois jours",
    ],
    "it": [
        "eravamo 25 persone",
        "è successo nel 1999 e nel 2024",
        "costa 120 euro al mese",
        "ho aspettato due o tre giorni",
    ],
    "nl": [
        "we waren met 25 mensen",
        "het was in 1999 en in 2024",
        "het kost 120 euro per maand",
        "ik heb twee of drie dagen gewacht",
    ],
    "pt": [
        "éramos 25 pessoas",
        "foi em 1999 e em 2024",
        "custa 120 euros por mês",
        "esperei dois ou três dias",
    ],
}
NAMES = ("john", "maria", "k.smith", "anna.berg", "jl", "pierre_dupont", "lucia", "mark.o", "sven", "nina2")
DOMAINS = (
    "example.com",
    "mail.de",
    "correo.es",
    "posteo.fr",
    "azienda.it",
    "bedrijf.nl",
    "empresa.pt",
    "firm.co.uk",
)


@dataclass(frozen=True)
class Case:
    """One transcript: its words and, for a positive, the entity's type and word range (inclusive)."""

    lang: str
    words: list[str]
    entity: str | None = None
    first: int = -1
    last: int = -1
    form: str = ""


def _spoken(digits: str, lang: str) -> list[str]:
    return [DIGITS[lang][int(d)] for d in digits]


def card(rng: random.Random) -> str:
    from stdnum import luhn

    prefix = rng.choice(["4", "51", "52", "53", "54", "55"])
    body = prefix + "".join(rng.choice("0123456789") for _ in range(15 - len(prefix)))
    return body + luhn.calc_check_digit(body)


def phone(rng: random.Random, region: str) -> Any:
    import phonenumbers
    from phonenumbers import PhoneNumberType

    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    national = str(example.national_number)
    while True:
        candidate = national[:3] + "".join(rng.choice("0123456789") for _ in range(len(national) - 3))
        number = phonenumbers.parse(candidate, region)
        if phonenumbers.is_valid_number(number):
            return number


def iban(rng: random.Random, country: str) -> str:
    from stdnum import iban as stdnum_iban

    lengths = {"GB": 22, "DE": 22, "ES": 24, "FR": 27, "IT": 27, "NL": 18, "PT": 25}
    while True:
        if country == "GB":
            bban = "NWBK" + "".join(rng.choice("0123456789") for _ in range(14))
        elif country == "NL":
            bban = "ABNA" + "".join(rng.choice("0123456789") for _ in range(10))
        elif country == "IT":
            bban = "X" + "".join(rng.choice("0123456789") for _ in range(22))
        else:
            bban = "".join(rng.choice("0123456789") for _ in range(lengths[country] - 4))
        number = country + "00" + bban
        number = country + stdnum_iban.calc_check_digits(number) + bban
        if stdnum_iban.is_valid(number):
            return number


def national_id(rng: random.Random, lang: str) -> str | None:
    """A checksum-valid national ID of the language's country, found by stdnum's own validator."""
    from stdnum.util import get_cc_module

    kinds = {
        "de": ("de", "idnr", 11),
        "nl": ("nl", "bsn", 9),
        "pt": ("pt", "nif", 9),
        "fr": ("fr", "nir", 15),
    }
    if lang not in kinds:
        return None
    country, name, length = kinds[lang]
    module = get_cc_module(country, name)
    for _ in range(200_000):
        candidate = str(rng.choice("123456789")) + "".join(
            rng.choice("0123456789") for _ in range(length - 1)
        )
        if module.is_valid(candidate):
            return candidate
    return None


def entity_words(kind: str, lang: str, rng: random.Random) -> tuple[list[str], str] | None:
    """The words an ASR model writes for one entity of ``kind``, and the form it was written in."""
    import phonenumbers

    if kind == "CREDIT_CARD":
        number = card(rng)
        form = rng.choice(["spoken", "spoken", "written grouped", "written"])
        if form == "spoken":
            return _spoken(number, lang), form
        if form == "written grouped":
            return [number[i : i + 4] for i in range(0, 16, 4)], form
        return [number], form
    if kind == "PHONE_NUMBER":
        number = phone(rng, REGIONS[lang])
        form = rng.choice(["spoken national", "spoken international", "written national"])
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if form == "spoken national":
            return _spoken("".join(c for c in national if c.isdigit()), lang), form
        if form == "spoken international":
            return [PLUS[lang], *_spoken(str(number.country_code) + str(number.national_number), lang)], form
        return national.split(), form
    if kind == "EMAIL_ADDRESS":
        local, domain = rng.choice(NAMES), rng.choice(DOMAINS)
        form = rng.choice(["spoken", "written"])
        if form == "written":
            return [f"{local}@{domain}"], form
        at, dot = AT_DOT[lang]
        if "." in local or "_" in local:
            return None  # spoken local parts with dots are another entity of speech; written only
        parts = domain.split(".")
        spoken_domain = [w for part in parts for w in (part, dot)][:-1]
        return [local, at, *spoken_domain], form
    if kind == "IBAN_CODE":
        number = iban(rng, IBAN_COUNTRIES[lang])
        return [number[i : i + 4] for i in range(0, len(number), 4)], "written grouped"
    if kind == "NATIONAL_ID":
        found = national_id(rng, lang)
        return ([found], "written") if found else None
    if kind == "DIGIT_SEQUENCE":
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 10)))
        return _spoken(digits, lang), "spoken"
    raise ValueError(kind)


TYPES = ("CREDIT_CARD", "PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN_CODE", "NATIONAL_ID", "DIGIT_SEQUENCE")


def _around(lang: str, rng: random.Random) -> tuple[list[str], list[str]]:
    filler = FILLER[lang].split()
    start = rng.randrange(len(filler) - 12)
    before = filler[start : start + rng.randint(3, 8)]
    start = rng.randrange(len(filler) - 12)
    return before, filler[start : start + rng.randint(3, 8)]


def make_cases(per_type: int, negatives: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    langs = list(DIGITS)
    for kind in TYPES:
        made = 0
        while made < per_type:
            lang = langs[made % len(langs)]
            found = entity_words(kind, lang, rng)
            if found is None:
                if kind == "NATIONAL_ID" and lang not in ("de", "nl", "pt", "fr"):
                    langs_with = ("de", "nl", "pt", "fr")
                    lang = langs_with[made % len(langs_with)]
                    found = entity_words(kind, lang, rng)
                if found is None:
                    continue
            said, form = found
            before, after = _around(lang, rng)
            words = [*before, *said, *after]
            cases.append(Case(lang, words, kind, len(before), len(before) + len(said) - 1, form))
            made += 1
    for i in range(negatives):
        lang = langs[i % len(langs)]
        before, after = _around(lang, rng)
        cases.append(Case(lang, [*before, *rng.choice(NEGATIVES[lang]).split(), *after]))
    return cases


def document_of(
    words: list[str], lang: str, times: list[tuple[float, float]] | None = None
) -> dict[str, Any]:
    from gpu_job.transcript import PhaseSeconds, build_document

    times = times or [(i * 0.5, i * 0.5 + 0.4) for i in range(len(words))]
    timed = [{"start": a, "end": b, "word": w} for w, (a, b) in zip(words, times, strict=True)]
    document = build_document(
        source={"uri": "s3://bench/call.wav", "etag": "e", "size": 1},
        media={"duration_s": times[-1][1] + 1, "codec": "pcm_s16le", "sample_rate": 16000, "channels": 1},
        model={"name": "generated", "revision": None},
        mode="batched",
        chunking=None,
        words=timed,
        timings=PhaseSeconds(),
        hardware={"device": "cpu"},
    )
    document["language"] = lang  # the job's language ID is a guess; here the truth
    return document


def _spans_over_words(document: dict[str, Any], redacted: dict[str, Any]) -> list[tuple[str, set[int]]]:
    """Each redacted span's type and the indices of the original words it covers (by time)."""
    words = document["words"]
    out = []
    for span in redacted["redactions"]:
        inside = {
            i
            for i, w in enumerate(words)
            if w["start"] >= span["start"] - 1e-6 and w["end"] <= span["end"] + 1e-6
        }
        out.append((span["type"], inside))
    return out


def score_text(cases: list[Case]) -> dict[str, Any]:
    from gpu_job import redaction

    per_type: dict[str, dict[str, Any]] = {}
    per_form: dict[str, list[bool]] = {}
    false_spans = 0
    outside_words = 0
    misses: list[dict[str, Any]] = []
    false_examples: list[dict[str, Any]] = []
    started = time.perf_counter()
    for case in cases:
        document = document_of(case.words, case.lang)
        spans = _spans_over_words(document, redaction.apply(document, "redact"))
        truth = set(range(case.first, case.last + 1)) if case.entity else set()
        outside_words += len(case.words) - len(truth)
        for kind, inside in spans:
            if not inside & truth:
                false_spans += 1
                if len(false_examples) < 10:
                    false_examples.append(
                        {"lang": case.lang, "type": kind, "words": [case.words[i] for i in sorted(inside)]}
                    )
        if case.entity is None:
            continue
        hidden = any(truth <= inside for _, inside in spans)
        typed = any(truth <= inside and kind == case.entity for kind, inside in spans)
        row = per_type.setdefault(case.entity, {"entities": 0, "hidden": 0, "typed": 0, "by_language": {}})
        row["entities"] += 1
        row["hidden"] += hidden
        row["typed"] += typed
        lang_row = row["by_language"].setdefault(case.lang, [0, 0])
        lang_row[0] += 1
        lang_row[1] += hidden
        per_form.setdefault(f"{case.entity} {case.form}", []).append(hidden)
        if not hidden and len(misses) < 20:
            misses.append(
                {
                    "type": case.entity,
                    "lang": case.lang,
                    "form": case.form,
                    "said": case.words[case.first : case.last + 1],
                }
            )
    seconds = time.perf_counter() - started
    recall = {
        kind: {
            "entities": row["entities"],
            "recall_hidden": round(row["hidden"] / row["entities"], 4),
            "recall_typed": round(row["typed"] / row["entities"], 4),
            "goal": GOAL.get(kind),
            "recall_hidden_by_language": {
                lang: round(h / n, 3) for lang, (n, h) in sorted(row["by_language"].items())
            },
        }
        for kind, row in per_type.items()
    }
    words = sum(len(c.words) for c in cases)
    return {
        "documents": len(cases),
        "positives": sum(1 for c in cases if c.entity),
        "negatives": sum(1 for c in cases if not c.entity),
        "words": words,
        "recall": recall,
        "recall_hidden_by_form": {form: round(sum(v) / len(v), 3) for form, v in sorted(per_form.items())},
        "false_positive_spans": false_spans,
        "non_entity_words": outside_words,
        "false_positives_per_1000_words": round(1000 * false_spans / outside_words, 3),
        "false_positive_examples": false_examples,
        "missed_examples": misses,
        "ms_per_document": round(1000 * seconds / len(cases), 2),
    }


AUDIO_KINDS = ("CREDIT_CARD", "PHONE_NUMBER", "DIGIT_SEQUENCE")


def audio_items(count: int, seed: int, out: Path) -> list[dict[str, Any]]:
    """English utterances of the tiny model's words with one entity read digit by digit (exact times)."""
    import phonenumbers

    from scripts import make_speech_corpus as corpus
    from scripts import rare_words

    rng = random.Random(seed)
    english = [w for w in corpus.VOCABULARY["en"] if w not in DIGITS["en"]]
    speakers = rare_words.english_speakers()
    bank = corpus.WordBank(rare_words.ESPEAK_CACHE)
    items = []
    for i in range(count):
        kind = AUDIO_KINDS[i % len(AUDIO_KINDS)]
        if kind == "CREDIT_CARD":
            digits = card(rng)
        elif kind == "PHONE_NUMBER":
            digits = "".join(
                c
                for c in phonenumbers.format_number(phone(rng, "US"), phonenumbers.PhoneNumberFormat.NATIONAL)
                if c.isdigit()
            )
        else:
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 10)))
        before = [rng.choice(english) for _ in range(rng.randint(2, 4))]
        after = [rng.choice(english) for _ in range(rng.randint(2, 4))]
        said = _spoken(digits, "en")
        words = [*before, *said, *after]
        utt = rare_words.speak(words, speakers[i % len(speakers)], noise_db=-50.0, seed=seed + i, bank=bank)
        truth = (utt.words[len(before)].start, utt.words[len(before) + len(said) - 1].end)
        path = rare_words.write_wav(out / f"pii-{i:03d}.wav", utt.audio)
        items.append({"path": str(path), "kind": kind, "truth": truth, "words": words})
    return items


def score_audio(count: int, seed: int) -> dict[str, Any]:
    from gpu_job import api, redaction
    from gpu_job.audio_redaction import END_PAD_S, PAD_S

    with tempfile.TemporaryDirectory() as tmp:
        items = audio_items(count, seed, Path(tmp))
        model = api.load_model(str(SPEECH_MODEL), "cpu")
        started = time.perf_counter()
        documents = api.transcribe_many([i["path"] for i in items], model)
        transcribe_s = time.perf_counter() - started
    detected = covered = padded_covered = silenced_whole = 0
    start_errors: list[float] = []
    end_errors: list[float] = []
    per_kind: dict[str, list[int]] = {}
    for item, document in zip(items, documents, strict=True):
        assert isinstance(document, dict), document
        redacted = redaction.apply(document, "redact")
        lo, hi = item["truth"]
        # the span that overlaps the spoken entity (the entity's own; others would be false positives)
        overlapping = [s for s in redacted["redactions"] if s["start"] < hi and s["end"] > lo]
        row = per_kind.setdefault(item["kind"], [0, 0, 0])
        row[0] += 1
        if not overlapping:
            continue
        start = min(s["start"] for s in overlapping)
        end = max(s["end"] for s in overlapping)
        detected += 1
        row[1] += 1
        start_errors.append(round(start - lo, 3))
        end_errors.append(round(end - hi, 3))
        if start <= lo + COVER_S and end >= hi - COVER_S:
            covered += 1
            row[2] += 1
        padded_covered += start - PAD_S <= lo + COVER_S and end + END_PAD_S >= hi - COVER_S
        silenced_whole += start - PAD_S <= lo and end + END_PAD_S >= hi

    def summary(values: list[float]) -> dict[str, float]:
        if not values:
            return {}
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    return {
        "utterances": len(items),
        "model": str(SPEECH_MODEL.relative_to(REPO)),
        "engine": "batched (gpu_job.api.transcribe_many), CPU",
        "detected": detected,
        "spans_covering_within_0_25_s": covered,
        "share_covering_within_0_25_s": round(covered / detected, 4) if detected else None,
        "audio_pad_s": [PAD_S, END_PAD_S],
        "share_covering_within_0_25_s_after_pad": round(padded_covered / detected, 4) if detected else None,
        "share_silenced_whole_after_pad": round(silenced_whole / detected, 4) if detected else None,
        "by_kind": {k: {"utterances": n, "detected": d, "covering": c} for k, (n, d, c) in per_kind.items()},
        "start_error_s": summary(start_errors),
        "end_error_s": summary(end_errors),
        "note": "error = span edge - true edge; a span covers when start <= true start + 0.25 s and "
        "end >= true end - 0.25 s. The audio copy pads each span by audio_pad_s (before, after).",
        "transcribe_s": round(transcribe_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-type", type=int, default=70, help="entities per type (text set)")
    parser.add_argument("--negatives", type=int, default=350, help="transcripts without personal data")
    parser.add_argument("--audio", type=int, default=36, help="spoken utterances (0: skip the audio part)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "pii.json")
    args = parser.parse_args(argv)

    cases = make_cases(args.per_type, args.negatives, SEED)
    text = score_text(cases)
    print(
        f"text: {text['documents']} transcripts ({text['positives']} with an entity), {text['words']} words"
    )
    print(f"{'entity':<16} {'n':>4} {'recall hidden':>14} {'recall typed':>13} {'goal':>6}")
    for kind, row in text["recall"].items():
        goal = f"{row['goal']:.2f}" if row["goal"] else "-"
        hidden, typed = row["recall_hidden"], row["recall_typed"]
        print(f"{kind:<16} {row['entities']:>4} {hidden:>14.3f} {typed:>13.3f} {goal:>6}")
    print(
        f"false positives: {text['false_positive_spans']} spans over {text['non_entity_words']}"
        " non-entity words"
        f" = {text['false_positives_per_1000_words']:.2f} per 1,000 words"
    )
    audio = score_audio(args.audio, SEED + 1) if args.audio else None
    if audio:
        print(
            f"audio: {audio['utterances']} utterances, {audio['detected']} entities redacted from the tiny"
            f" model's words, {audio['spans_covering_within_0_25_s']} spans cover the spoken entity within"
            f" 0.25 s (share {audio['share_covering_within_0_25_s']}; with the audio copy's padding"
            f" {audio['audio_pad_s']} s"
            f" {audio['share_covering_within_0_25_s_after_pad']}, wholly silenced"
            f" {audio['share_silenced_whole_after_pad']}); start error {audio['start_error_s']},"
            f" end error {audio['end_error_s']}"
        )
    import presidio_analyzer

    result = {
        "benchmark": "pii",
        "seed": SEED,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "presidio_analyzer": getattr(presidio_analyzer, "__version__", None),
        "text": text,
        "audio": audio,
        "goals_met": {kind: text["recall"][kind]["recall_hidden"] >= goal for kind, goal in GOAL.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
