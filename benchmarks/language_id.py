"""Language ID for transcripts: the old stop-word heuristic vs py3langid vs lingua, on the 25 languages.

Usage: .venv/bin/python benchmarks/language_id.py [--out benchmarks/results/language_id.json]

The evaluation set is built offline from benchmarks/data/language_id_sentences.tsv (8 sentences per
language, written for this repository; no dataset is downloaded) and is small, so one error moves a
figure by several points:
- sentences: the 200 sentences, each on its own;
- documents: per language the sentences 1-4, 5-8 and all 8 (75 documents, segments = sentences);
- short segments: from every sentence a 2-, 3-, 4- and 5-word window at a seeded random offset (800);
- monolingual chopped: per language all 8 sentences cut into 3-6-word segments, as a transcript
  with short pauses would be (25): the mixed-language flag must stay off;
- mixed: sentences 1-4 of one language then 5-8 of another, as sentences and chopped (2 x 35 pairs:
  one per language in a shuffled cycle, plus the close pairs): the flag must come on and name both.

Every method answers through the same rules (gpu_job.language.decide: at least MIN_LETTERS letters
and a probability of at least MIN_CONFIDENCE, else undetermined), except the heuristic, which has
its own (stop-word hits and a margin). "argmax" rows show the libraries without abstaining.
Accuracy counts an undetermined answer as not correct; "wrong" is the share answered wrongly.
Load time, memory and per-call time are measured in fresh subprocesses on this machine's CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from language_id_heuristic import detect_language as heuristic_language  # noqa: E402

from gpu_job import language  # noqa: E402

SENTENCES = ROOT / "benchmarks" / "data" / "language_id_sentences.tsv"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "language_id.json"
SEED = 0
CLOSE_PAIRS = (
    ("cs", "sk"),
    ("hr", "sl"),
    ("ru", "uk"),
    ("bg", "ru"),
    ("da", "sv"),
    ("es", "pt"),
    ("es", "it"),
    ("lv", "lt"),
    ("fi", "et"),
    ("nl", "de"),
)
# Wheel sizes from `pip download --no-deps` of the pinned versions (x86_64, CPython 3.11); the script
# measures installed size itself.
WHEEL_BYTES = {"py3langid": 4_600_605, "lingua-language-detector": 96_234_047}

Detect = Callable[[str], language.LanguageGuess]


class Answer(Protocol):
    @property
    def language(self) -> str | None: ...


def load_sentences(path: Path = SENTENCES) -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lang, sentence = line.split("\t", 1)
            by_lang.setdefault(lang, []).append(sentence.strip())
    return by_lang


def chop(sentences: Sequence[str], rng: random.Random) -> list[str]:
    """Cut sentences into 3-6-word segments (a transcript's pause-split segments)."""
    segments: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        while words:
            n = rng.randint(3, 6)
            segments.append(" ".join(words[:n]))
            words = words[n:]
    return segments


@dataclass
class EvalSet:
    sentences: list[tuple[str, str]]
    documents: list[tuple[str, list[str]]]
    short: list[tuple[str, str, int]]
    monolingual_chopped: list[tuple[str, list[str]]]
    mixed: list[tuple[tuple[str, str], str, list[str]]]  # (pair, "sentences" | "chopped", segments)


def build_eval_set(by_lang: dict[str, list[str]]) -> EvalSet:
    rng = random.Random(SEED)
    langs = sorted(by_lang)
    sentences = [(lang, s) for lang in langs for s in by_lang[lang]]
    documents: list[tuple[str, list[str]]] = []
    for lang in langs:
        ss = by_lang[lang]
        documents += [(lang, ss[:4]), (lang, ss[4:]), (lang, ss[3:] + ss[:3])]
    short: list[tuple[str, str, int]] = []
    for lang, sentence in sentences:
        words = sentence.split()
        for n in (2, 3, 4, 5):
            start = rng.randint(0, max(0, len(words) - n))
            short.append((lang, " ".join(words[start : start + n]), n))
    monolingual = [(lang, chop(by_lang[lang], rng)) for lang in langs]
    cycle = langs[:]
    rng.shuffle(cycle)
    pairs = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))] + list(CLOSE_PAIRS)
    mixed: list[tuple[tuple[str, str], str, list[str]]] = []
    for a, b in pairs:
        halves = by_lang[a][:4], by_lang[b][4:]
        mixed.append(((a, b), "sentences", [*halves[0], *halves[1]]))
        mixed.append(((a, b), "chopped", chop(halves[0], rng) + chop(halves[1], rng)))
    return EvalSet(sentences, documents, short, monolingual, mixed)


# -- the methods ------------------------------------------------------------------------------------
def heuristic_detect(text: str) -> language.LanguageGuess:
    return language.LanguageGuess(heuristic_language(text), None, language.count_letters(text))


def py3langid_argmax(text: str) -> language.LanguageGuess:
    lang, p = language.rank(text)[0]
    return language.LanguageGuess(lang, p, language.count_letters(text))


def lingua_detector() -> Any | None:
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError:
        return None
    names = [c.upper() for c in language.MODEL_LANGUAGES]
    codes = [getattr(IsoCode639_1, name) for name in names if hasattr(IsoCode639_1, name)]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()


def lingua_methods(detector: Any) -> tuple[Detect, Detect]:
    def ranking(text: str) -> list[tuple[str, float]]:
        values = detector.compute_language_confidence_values(text)
        return [(v.language.iso_code_639_1.name.lower(), float(v.value)) for v in values]

    def ruled(text: str) -> language.LanguageGuess:
        letters = language.count_letters(text)
        return language.decide(letters, ranking(text)[:1] if letters >= language.MIN_LETTERS else [])

    def argmax(text: str) -> language.LanguageGuess:
        ranked = ranking(text)
        best = ranked[0] if ranked and ranked[0][1] > 0 else (None, None)
        return language.LanguageGuess(best[0], best[1], language.count_letters(text))

    return ruled, argmax


# -- scoring ----------------------------------------------------------------------------------------
def score(pairs: Sequence[tuple[str, Answer]]) -> dict[str, Any]:
    n = len(pairs)
    correct = sum(g.language == truth for truth, g in pairs)
    answered = sum(g.language is not None for _, g in pairs)
    return {
        "n": n,
        "accuracy": round(correct / n, 4),
        "answered": round(answered / n, 4),
        "wrong": round((answered - correct) / n, 4),
    }


def evaluate(detect: Detect, data: EvalSet) -> dict[str, Any]:
    result: dict[str, Any] = {
        "sentences": score([(lang, detect(s)) for lang, s in data.sentences]),
        "documents": score([(lang, language.detect_document(segs, detect)) for lang, segs in data.documents]),
        "short_segments": score([(lang, detect(s)) for lang, s, _ in data.short]),
    }
    for n in (2, 3, 4, 5):
        result[f"short_{n}_words"] = score([(lang, detect(s)) for lang, s, k in data.short if k == n])
    mono = [language.detect_document(segs, detect) for _, segs in data.monolingual_chopped]
    mono_docs = [language.detect_document(segs, detect) for _, segs in data.documents]
    mixed = [(pair, language.detect_document(segs, detect)) for pair, _, segs in data.mixed]
    result["mixed_flag"] = {
        "monolingual_flagged": round(sum(d.mixed for d in mono + mono_docs) / len(mono + mono_docs), 4),
        "monolingual_n": len(mono + mono_docs),
        "mixed_flagged": round(sum(d.mixed for _, d in mixed) / len(mixed), 4),
        "mixed_pair_named": round(sum(_names(pair, d) for pair, d in mixed) / len(mixed), 4),
        "mixed_n": len(mixed),
    }
    return result


def _names(pair: tuple[str, str], document: language.DocumentLanguage) -> bool:
    """The mixed flag is on and the two largest shares are the pair's languages."""
    return document.mixed and {s.language for s in document.languages[:2]} == set(pair)


def time_calls(detect: Detect, texts: Sequence[str], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for text in texts:
            detect(text)
        best = min(best, time.perf_counter() - t0)
    return best / len(texts)


LOAD_PROBE = """
import json, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
t0 = time.perf_counter()
{load}
t1 = time.perf_counter()
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
peak_mb = int(status["VmHWM"].split()[0]) / 1024
print(json.dumps({{"load_s": round(t1 - t0, 3), "peak_rss_mb": round(peak_mb, 1)}}))
"""
LOADS = {
    "python (baseline)": "pass",
    "heuristic": "import language_id_heuristic",
    "py3langid": "from gpu_job import language; language.supported_languages()",
    "lingua": "import language_id; language_id.lingua_detector()",
}


def measure_load(name: str) -> dict[str, Any]:
    code = LOAD_PROBE.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), load=LOADS[name])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def installed_bytes(dist: str) -> int | None:
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        return None
    return sum(f.size or 0 for f in files if f.size)


def run(out: Path) -> dict[str, Any]:
    by_lang = load_sentences()
    missing = set(language.MODEL_LANGUAGES) - set(by_lang)
    if missing:
        raise SystemExit(f"no sentences for {sorted(missing)}")
    data = build_eval_set(by_lang)
    lingua = lingua_detector()
    methods: dict[str, Detect] = {
        "heuristic": heuristic_detect,
        "py3langid": language.detect,
        "py3langid (argmax)": py3langid_argmax,
    }
    coverage = {
        "heuristic": sorted(language.MODEL_LANGUAGES),
        "py3langid": sorted(language.supported_languages() & set(language.MODEL_LANGUAGES)),
    }
    if lingua is not None:
        methods["lingua"], methods["lingua (argmax)"] = lingua_methods(lingua)
        coverage["lingua"] = sorted(
            {v.language.iso_code_639_1.name.lower() for v in lingua.compute_language_confidence_values("a")}
        )
    lecture = " ".join(s for _, s in data.sentences) * 20  # ~26k words, the text of a 3-hour lecture
    results: dict[str, Any] = {
        "eval_set": {
            "source": str(SENTENCES.relative_to(ROOT)),
            "sentences": len(data.sentences),
            "documents": len(data.documents),
            "short_segments": len(data.short),
            "monolingual_chopped": len(data.monolingual_chopped),
            "mixed_documents": len(data.mixed),
            "seed": SEED,
        },
        "rules": {
            "min_letters": language.MIN_LETTERS,
            "min_confidence": language.MIN_CONFIDENCE,
            "mixed_min_share": language.MIXED_MIN_SHARE,
            "mixed_min_letters": language.MIXED_MIN_LETTERS,
        },
        "host": {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "methods": {},
    }
    for name, detect in methods.items():
        base = name.split(" ")[0]
        row = evaluate(detect, data)
        row["languages_covered"] = len(coverage[base])
        row["languages_missing"] = sorted(set(language.MODEL_LANGUAGES) - set(coverage[base]))
        row["per_call_us_sentence"] = round(time_calls(detect, [s for _, s in data.sentences]) * 1e6, 1)
        row["per_call_ms_3h_lecture_text"] = round(time_calls(detect, [lecture], repeats=1) * 1e3, 1)
        results["methods"][name] = row
    footprint: dict[str, Any] = {}
    for name in LOADS:
        if name == "lingua" and lingua is None:
            continue
        footprint[name] = measure_load(name)
    for name, dist in (("py3langid", "py3langid"), ("lingua", "lingua-language-detector")):
        if name in footprint:
            footprint[name] |= {
                "installed_mb": round((installed_bytes(dist) or 0) / 1e6, 1),
                "wheel_mb": round(WHEEL_BYTES[dist] / 1e6, 1),
                "version": metadata.version(dist),
            }
    results["footprint"] = footprint
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


def print_table(results: dict[str, Any]) -> None:
    cols = ("sentences", "documents", "short_segments", "short_2_words", "short_5_words")
    header = " ".join(f"{c:>22}" for c in cols)
    print(f"{'method':20} {header} {'mixed: mono/mixed/named':>26} {'us/sent':>8}")
    for name, row in results["methods"].items():
        cells = " ".join(f"{row[c]['accuracy']:>8.1%} ({row[c]['wrong']:>5.1%} wrong)" for c in cols)
        m = row["mixed_flag"]
        flags = f"{m['monolingual_flagged']:.0%}/{m['mixed_flagged']:.0%}/{m['mixed_pair_named']:.0%}"
        print(f"{name:20} {cells} {flags:>26} {row['per_call_us_sentence']:>8}")
    print()
    print(f"{'footprint':20} {'load s':>8} {'peak RSS MB':>12} {'installed MB':>13} {'wheel MB':>9}")
    for name, f in results["footprint"].items():
        sizes = f"{f.get('installed_mb', ''):>13} {f.get('wheel_mb', ''):>9}"
        print(f"{name:20} {f['load_s']:>8} {f['peak_rss_mb']:>12} {sizes}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    print_table(run(args.out))


if __name__ == "__main__":
    main()
