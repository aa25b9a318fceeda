"""Truth and scoring for the accuracy tests (tests/gpu_job/test_accuracy.py).

Why a module: the accuracy tests compare what the pipeline produces with what the synthetic corpus
generator (scripts/make_speech_corpus.py) *knows* it said and when. The generator is deterministic,
so held-out audio is regenerated at test time with espeak-ng instead of being committed; nothing
expected is hard-coded here.

Scoring:
- WER is corpus level: word edit distance summed over files / reference words.
- Word start errors are measured on the words the pipeline got right: reference and hypothesis are
  aligned by the same edit-distance alignment, and only "equal" pairs are timed (a misrecognised word
  has no meaningful start time; it is already counted by the WER).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SPEECH_MODEL = REPO / "tests" / "fixtures" / "models" / "tiny_tdt_speech.nemo"
GENERATOR = REPO / "scripts" / "make_speech_corpus.py"
ESPEAK_CACHE = REPO / "build" / "espeak_cache"


def corpus_generator() -> ModuleType:
    """scripts/ is not a package: load the generator module from its path."""
    name = "make_speech_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def heldout_seed() -> int:
    gen = corpus_generator()
    return int(gen.DEFAULT_SEED) * 10 + int(gen.SPLIT_SEEDS["test"])


def long_split_seed() -> int:
    gen = corpus_generator()
    return int(gen.DEFAULT_SEED) * 10 + int(gen.SPLIT_SEEDS["long"])


@dataclass(frozen=True)
class TruthWord:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Recording:
    path: Path
    duration: float
    words: tuple[TruthWord, ...]


def write_recordings(utterances: list[Any], out_dir: Path, prefix: str) -> list[Recording]:
    gen = corpus_generator()
    recordings = []
    for i, utt in enumerate(utterances):
        path = out_dir / f"{prefix}_{i:04d}.wav"
        gen.write_wav(path, utt.audio)
        words = tuple(TruthWord(w.word, w.start, w.end) for w in utt.words)
        recordings.append(Recording(path, utt.duration, words))
    return recordings


def heldout_utterances(count: int, out_dir: Path) -> list[Recording]:
    """The first `count` utterances of the generator's test split (never used for training)."""
    gen = corpus_generator()
    bank = gen.WordBank(ESPEAK_CACHE)
    return write_recordings(gen.make_utterances(count, heldout_seed(), bank), out_dir, "heldout")


def long_recording(minutes: float, out_dir: Path) -> tuple[Recording, list[Recording]]:
    """Held-out utterances concatenated with 0.5-3 s silences (the generator's long split), and the
    same utterances as separate files (the full-attention baseline: same audio, ideal segmentation)."""
    gen = corpus_generator()
    bank = gen.WordBank(ESPEAK_CACHE)
    seed = long_split_seed()
    parts = gen.long_recording_parts(minutes, seed, bank)
    whole = gen.concatenate(parts, seed + 1)
    recording = write_recordings([whole], out_dir, f"long_{minutes:g}min")[0]
    return recording, write_recordings(parts, out_dir, "part")


_PUNCT = re.compile(r"[^\w\s']", re.UNICODE)


def normalise(word: str) -> str:
    """Lower case without punctuation: the corpus has neither, real models add both."""
    return _PUNCT.sub("", word.lower()).strip()


def align(ref: list[str], hyp: list[str]) -> tuple[int, list[tuple[int, int]]]:
    """Word edit distance and the (ref index, hyp index) pairs aligned as equal."""
    n, m = len(ref), len(hyp)
    dist = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        dist[i][0] = i
    for j in range(m + 1):
        dist[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            dist[i][j] = min(
                dist[i - 1][j] + 1,
                dist[i][j - 1] + 1,
                dist[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]),
            )
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:
        if ref[i - 1] == hyp[j - 1] and dist[i][j] == dist[i - 1][j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif dist[i][j] == dist[i - 1][j - 1] + 1:
            i, j = i - 1, j - 1
        elif dist[i][j] == dist[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return dist[n][m], pairs


@dataclass
class Score:
    """Accumulated over files: WER counts and start-time errors of correctly recognised words."""

    errors: int = 0
    ref_words: int = 0
    start_errors: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # a few mismatches, for failure messages

    @property
    def wer(self) -> float:
        return self.errors / max(self.ref_words, 1)

    def within(self, tolerance_s: float) -> float:
        """Fraction of timed words whose start is within tolerance (0.0 when nothing was timed)."""
        if not self.start_errors:
            return 0.0
        return sum(abs(e) <= tolerance_s for e in self.start_errors) / len(self.start_errors)

    def percentile(self, q: float) -> float:
        values = sorted(abs(e) for e in self.start_errors)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q / 100 * len(values)))]

    def summary(self) -> str:
        mean = sum(self.start_errors) / max(len(self.start_errors), 1)
        return (
            f"WER {self.wer:.2%} ({self.errors}/{self.ref_words}); timed words {len(self.start_errors)}, "
            f"start error mean {mean:+.3f}s, |err| p50 {self.percentile(50):.3f}s p90 "
            f"{self.percentile(90):.3f}s p99 {self.percentile(99):.3f}s max {self.percentile(100):.3f}s, "
            f"within 0.25s {self.within(0.25):.1%}"
        )

    def add(self, truth: tuple[TruthWord, ...], transcript: dict[str, Any]) -> None:
        hyp_words = [w for w in transcript["words"] if normalise(str(w["word"]))]
        ref = [normalise(w.word) for w in truth]
        hyp = [normalise(str(w["word"])) for w in hyp_words]
        errors, pairs = align(ref, hyp)
        self.errors += errors
        self.ref_words += len(ref)
        for i, j in pairs:
            self.start_errors.append(float(hyp_words[j]["start"]) - truth[i].start)
        if errors and len(self.examples) < 3:
            self.examples.append(f"ref: {' '.join(ref)[:200]}\nhyp: {' '.join(hyp)[:200]}")


def long_split_minute() -> Any:
    """About a minute of held-out corpus speech with pauses (the long split), 16 kHz float32: the VAD
    tests' signal (tests/gpu_job/test_vad.py, test_device_front.py)."""
    import numpy as np

    gen = corpus_generator()
    bank = gen.WordBank(ESPEAK_CACHE)
    parts = gen.long_recording_parts(1.0, long_split_seed(), bank)
    return gen.concatenate(parts, long_split_seed() + 1).audio.astype(np.float32)
