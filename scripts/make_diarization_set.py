#!/usr/bin/env python3
"""Generated multi-speaker conversations with exact truth: who said which word, and when.

Why: diarization needs a test set whose speaker turns are known to the sample, offline. Each
conversation is 2-4 distinct espeak-ng voices (scripts/make_speech_corpus.py: its word bank, its
trimmed single-word synthesis) taking turns on one mono track; some turns start before the previous
one ends (overlap), the rest after a short pause. The truth is each turn's span (first word start to
last word end) per speaker, and every word with its speaker.

Voices: training (scripts/train_tiny_diarizer.py) and evaluation draw from disjoint voice sets
(TRAIN_VOICES / TEST_VOICES), so the tiny diarizer is measured on voices it never saw.

    python scripts/make_diarization_set.py --out build/diarization --count 8 --minutes 1 3
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_speech_corpus import (
    SAMPLE_RATE,
    VOCABULARY,
    Speaker,
    WordBank,
    trim_silence,
    write_wav,
)

# Distinct voices: base voice x variant x pitch. Disjoint sets for training and for evaluation.
TEST_VOICES: tuple[Speaker, ...] = (
    Speaker("en-us", "m1", 160, 40),
    Speaker("en-gb", "f2", 170, 60),
    Speaker("en-us", "m7", 150, 25),
    Speaker("en-gb", "f4", 165, 75),
    Speaker("en-us", "f1", 175, 55),
    Speaker("en-gb", "m3", 155, 45),
)
TRAIN_VOICES: tuple[Speaker, ...] = (
    Speaker("en-gb", "m1", 150, 35),
    Speaker("en-us", "f2", 160, 65),
    Speaker("en-gb", "m2", 170, 50),
    Speaker("en-us", "f3", 155, 70),
    Speaker("en-gb", "m4", 165, 30),
    Speaker("en-us", "f4", 150, 60),
    Speaker("en-us", "m2", 175, 45),
    Speaker("en-gb", "f1", 160, 55),
    Speaker("en-us", "m3", 145, 40),
    Speaker("en-gb", "f3", 170, 80),
)
# More training voices, so the projection learns what tells voices apart rather than these ten:
# variants and accents that no TEST_VOICES entry uses (none of m1/m3/m7/f1/f2/f4 with en-us/en-gb).
EXTRA_TRAIN_VOICES: tuple[Speaker, ...] = tuple(
    Speaker(base, variant, speed, pitch)
    for base, variant, speed, pitch in (
        ("en-us", "m2", 150, 30),
        ("en-gb", "m4", 160, 50),
        ("en-gb-scotland", "m5", 170, 40),
        ("en-gb-x-rp", "m6", 145, 60),
        ("en-029", "m8", 155, 35),
        ("en-us-nyc", "f3", 165, 70),
        ("en-us", "f5", 175, 50),
        ("en-gb", "adam", 150, 45),
        ("en-gb-scotland", "linda", 160, 65),
        ("en-gb-x-rp", "steph", 170, 55),
        ("en-029", "david", 145, 40),
        ("en-us-nyc", "paul", 155, 30),
        ("en-us", "john", 165, 60),
        ("en-gb", "max", 175, 35),
        ("en-gb-scotland", "michel", 150, 55),
        ("en-gb-x-rp", "norbert", 160, 45),
        ("en-029", "quincy", 170, 70),
        ("en-us-nyc", "rob", 145, 50),
        ("en-us", "robert", 155, 40),
        ("en-gb", "travis", 165, 30),
        ("en-gb-scotland", "victor", 175, 60),
        ("en-gb-x-rp", "zac", 150, 35),
        ("en-029", "annie", 160, 75),
        ("en-us-nyc", "aunty", 170, 45),
        ("en-us", "belinda", 145, 65),
        ("en-gb", "edward", 155, 50),
        ("en-gb-scotland", "iven", 165, 40),
        ("en-gb-x-rp", "Andy", 175, 55),
        ("en-029", "Alicia", 150, 70),
        ("en-us-nyc", "anika", 160, 60),
    )
)
OVERLAP_P = 0.15  # share of turns that start before the previous turn ends
DEFAULT_CACHE = Path("build/espeak_cache")


@dataclass(frozen=True)
class Conversation:
    audio: np.ndarray  # float32 mono SAMPLE_RATE
    turns: list[tuple[float, float, int]]  # (start, end, speaker index)
    words: list[dict[str, object]]  # {"word", "start", "end", "speaker"}
    voices: list[str]

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def _turn(
    bank: WordBank, voice: Speaker, words: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, list]:
    """One turn's audio (words with 30-200 ms gaps) and word spans relative to its start."""
    pieces, spans, pos = [], [], 0
    for index, word in enumerate(words):
        audio = trim_silence(bank.get(voice, word))
        spans.append((word, pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE))
        pieces.append(audio)
        pos += len(audio)
        if index < len(words) - 1:
            gap = np.zeros(int(rng.uniform(0.03, 0.2) * SAMPLE_RATE), np.float32)
            pieces.append(gap)
            pos += len(gap)
    audio = np.concatenate(pieces)
    return audio / (float(np.max(np.abs(audio))) or 1.0) * float(rng.uniform(0.4, 0.8)), spans


def make_conversation(
    seed: int, speakers: int, minutes: float, voices: tuple[Speaker, ...], bank: WordBank
) -> Conversation:
    rng = np.random.default_rng(seed)
    chosen = [voices[int(i)] for i in rng.choice(len(voices), size=speakers, replace=False)]
    vocab = VOCABULARY["en"]
    plan: list[tuple[int, list[str], float]] = []  # (speaker, words, offset from the previous turn's end)
    total, current = 0.0, -1
    while total < minutes * 60:
        # the next voice is another one; a one-voice conversation's voice takes every turn
        current = int(rng.choice([s for s in range(speakers) if s != current] or [0]))
        words = [vocab[int(i)] for i in rng.integers(len(vocab), size=int(rng.integers(3, 16)))]
        offset = (
            -float(rng.uniform(0.3, 1.0))
            if plan and rng.random() < OVERLAP_P
            else float(rng.uniform(0.2, 1.0))
        )
        plan.append((current, words, offset))
        total += 0.4 * len(words) + offset
    bank.prefetch((chosen[s], w) for s, ws, _ in plan for w in ws)
    rendered = [(s, *_turn(bank, chosen[s], ws, rng), off) for s, ws, off in plan]
    length = int((sum(len(a) for _, a, _, _ in rendered) / SAMPLE_RATE + 2 * len(rendered) + 1) * SAMPLE_RATE)
    mix = np.zeros(length, np.float32)
    turns: list[tuple[float, float, int]] = []
    spoken: list[dict[str, object]] = []
    end = 0.3
    for speaker, audio, spans, offset in rendered:
        start = max(0.0, end + offset)
        at = int(start * SAMPLE_RATE)
        mix[at : at + len(audio)] += audio
        begin = at / SAMPLE_RATE
        turns.append((round(begin + spans[0][1], 3), round(begin + spans[-1][2], 3), speaker))
        spoken += [
            {"word": w, "start": round(begin + s, 3), "end": round(begin + e, 3), "speaker": speaker}
            for w, s, e in spans
        ]
        end = max(end, begin + len(audio) / SAMPLE_RATE)
    mix = mix[: int((end + 0.5) * SAMPLE_RATE)]
    noise = np.random.default_rng(seed + 1).standard_normal(len(mix)).astype(np.float32) * np.float32(
        10 ** (-55 / 20)
    )
    mix = np.clip(mix + noise, -1.0, 1.0)
    spoken.sort(key=lambda w: (float(str(w["start"])), int(str(w["speaker"]))))
    return Conversation(mix.astype(np.float32), turns, spoken, [v.name for v in chosen])


def write_conversation(out: Path, name: str, conversation: Conversation) -> Path:
    """<name>.wav and <name>.json (turns, words, voices) under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    write_wav(out / f"{name}.wav", conversation.audio)
    truth = {
        "duration": round(conversation.duration, 3),
        "voices": conversation.voices,
        "turns": conversation.turns,
        "words": conversation.words,
    }
    (out / f"{name}.json").write_text(json.dumps(truth), encoding="utf-8")
    return out / f"{name}.wav"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("build/diarization"))
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--minutes", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    bank = WordBank(args.cache)
    rng = np.random.default_rng(args.seed)
    for index in range(args.count):
        speakers = 2 + index % 3
        minutes = float(rng.uniform(*args.minutes))
        conversation = make_conversation(args.seed * 1000 + index, speakers, minutes, TEST_VOICES, bank)
        path = write_conversation(args.out, f"conv{index:02d}-{speakers}spk", conversation)
        print(f"{path}: {speakers} speakers, {conversation.duration:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
