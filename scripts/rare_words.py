"""Rare-word speech for custom vocabularies: the test, the demo and benchmarks/boosting.py share it.

Why these words are "rare": the tiny speech model (tests/fixtures/models/tiny_tdt_speech.nemo) was
trained on the espeak-ng corpus of scripts/make_speech_corpus.py, whose English sentences use only the
English vocabulary. A word of its Spanish or German vocabulary spoken by an English voice inside an
English sentence is one the model has a token for but has never heard there, so it hears the nearest
English word instead: what a product or drug name is to a real model. The audio is made the corpus
generator's way (one espeak-ng call per word, exact word boundaries, added noise), from its own voices
and cache, so it is as deterministic as the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scripts import make_speech_corpus as corpus

ESPEAK_CACHE = Path(__file__).resolve().parents[1] / "build" / "espeak_cache"
# Words of the other languages' vocabularies that English never uses (checked by `rare_candidates`).
RARE_WORDS = ("casa", "perro", "gato", "agua", "coche", "tren", "katze", "zug")


def rare_candidates() -> tuple[str, ...]:
    """RARE_WORDS, each checked to be in the generator's Spanish or German vocabulary and not English."""
    english = set(corpus.VOCABULARY["en"])
    foreign = set(corpus.VOCABULARY["es"]) | set(corpus.VOCABULARY["de"])
    bad = [w for w in RARE_WORDS if w in english or w not in foreign]
    if bad:
        raise ValueError(f"not rare for the tiny model: {bad}")
    return RARE_WORDS


def english_speakers() -> list[Any]:
    return corpus.all_speakers("en")


def speak(
    words: Sequence[str],
    speaker: Any,
    noise_db: float = -50.0,
    seed: int = 0,
    bank: Any = None,
    gain: float = 0.6,
) -> Any:
    """One utterance (corpus.Utterance: audio, text, word times) of `words` by `speaker`."""
    plan = corpus.UtterancePlan(
        lang="en",
        speaker=speaker,
        words=tuple(words),
        lead_s=0.3,
        gaps_s=(0.1,) * (len(words) - 1),
        tail_s=0.3,
        gain=gain,
        noise_db=noise_db,
        noise_seed=seed,
    )
    return corpus.render(plan, bank or corpus.WordBank(ESPEAK_CACHE))


def write_wav(path: Path, audio: np.ndarray) -> Path:
    corpus.write_wav(path, audio)
    return path
