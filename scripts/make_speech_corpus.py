#!/usr/bin/env python3
"""Deterministic synthetic speech corpus (espeak-ng) with exact word boundaries.

Why: tests must prove that the pipeline transcribes *correctly* (words and timestamps), offline
and on CPU. A real corpus is too big and has no exact truth; espeak-ng is small, deterministic
and speaks many languages.

How the word boundaries are exact: every word is synthesised on its own (one espeak-ng call per
(speaker, word), cached), its leading/trailing silence is trimmed, and the utterance is built by
concatenating the trimmed words with controlled gaps. The generator therefore *knows* where each
word starts and ends, to the sample. espeak-ng cannot report word timings for its own sentence
prosody, so this is the robust choice; the price is a word-by-word prosody.

Outputs (NeMo-style JSON-lines manifests next to 16 kHz mono 16-bit WAVs):
    {"audio_filepath", "duration", "text", "lang", "speaker", "words": [{"word", "start", "end"}]}

Splits use separate seeds (train/dev/test never share an RNG stream). Long recordings are made by
concatenating test-distribution utterances with 0.5-3 s silences.

Examples:
    python scripts/make_speech_corpus.py --out build/corpus --train 6000 --dev 150 --test 300
    python scripts/make_speech_corpus.py --out build/corpus --train 0 --dev 0 --test 0 --long-minutes 20
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import wave
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

SAMPLE_RATE = 16_000
ESPEAK_RATE = 22_050
MAX_UTTERANCE_S = 15.0
MIN_UTTERANCE_S = 1.0


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Small vocabulary per language: digits plus everyday words. Plain words (no punctuation, lower
# case) keep the SentencePiece vocabulary small. Where espeak-ng needs a spelling with accents
# to pronounce a word right, the transcript keeps that spelling.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "en": _words(
        "zero one two three four five six seven eight nine the cat dog house red blue green "
        "big small open door window car train water time day night good morning hello yes no "
        "stop go left right up down"
    ),
    "de": _words(
        "null eins zwei drei vier fünf sechs sieben acht neun das haus hund katze rot blau "
        "grün groß klein tür fenster auto zug wasser zeit tag nacht gut morgen hallo ja nein "
        "halt links rechts oben unten"
    ),
    "es": _words(
        "cero uno dos tres cuatro cinco seis siete ocho nueve la casa perro gato rojo azul "
        "verde grande puerta ventana coche tren agua tiempo día noche bueno mañana hola sí "
        "alto izquierda derecha arriba abajo"
    ),
}
BASE_VOICES: dict[str, tuple[str, ...]] = {"en": ("en-gb", "en-us"), "de": ("de",), "es": ("es",)}
VARIANTS: tuple[str, ...] = ("m1", "m2", "m3", "m4", "m7", "f1", "f2", "f3", "f4")
SPEEDS: tuple[int, ...] = (140, 150, 160, 170, 180, 190)
PITCHES: tuple[int, ...] = (35, 45, 55, 65)
DEFAULT_SEED = 20261125
SPLIT_SEEDS: dict[str, int] = {"train": 0, "dev": 1, "test": 2, "long": 3, "mixed": 4}


@dataclass(frozen=True)
class Speaker:
    """One espeak-ng voice configuration; a 'speaker' of the synthetic corpus."""

    voice: str
    variant: str
    speed: int
    pitch: int

    @property
    def name(self) -> str:
        return f"{self.voice}+{self.variant}-s{self.speed}-p{self.pitch}"


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Utterance:
    audio: np.ndarray  # float32, SAMPLE_RATE
    text: str
    lang: str
    speaker: str
    words: tuple[Word, ...]

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


class WordBank:
    """Trimmed, resampled single-word recordings, synthesised once per (speaker, word)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._memory: dict[tuple[Speaker, str], np.ndarray] = {}
        self._cache_dir = cache_dir
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)

    def _cache_path(self, speaker: Speaker, word: str) -> Path | None:
        if self._cache_dir is None:
            return None
        safe = word.encode("utf-8").hex()
        return self._cache_dir / speaker.name / f"{safe}.npy"

    def get(self, speaker: Speaker, word: str) -> np.ndarray:
        key = (speaker, word)
        if key in self._memory:
            return self._memory[key]
        path = self._cache_path(speaker, word)
        if path is not None and path.exists():
            audio = np.load(path)
        else:
            audio = trim_silence(synthesise(speaker, word))
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, audio)
        self._memory[key] = audio
        return audio

    def prefetch(self, pairs: Iterable[tuple[Speaker, str]], workers: int = 4) -> None:
        """Synthesise many words concurrently (espeak-ng runs as separate processes)."""
        todo = sorted({p for p in pairs if p not in self._memory}, key=lambda p: (p[0].name, p[1]))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda p: self.get(*p), todo))


def synthesise(speaker: Speaker, word: str) -> np.ndarray:
    """One word through espeak-ng, returned as float32 at SAMPLE_RATE."""
    cmd = [
        "espeak-ng",
        "-v",
        f"{speaker.voice}+{speaker.variant}",
        "-s",
        str(speaker.speed),
        "-p",
        str(speaker.pitch),
        "--stdout",
        word,
    ]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(raw)) as w:
        rate = w.getframerate()
        frames = w.readframes(w.getnframes())
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if rate != ESPEAK_RATE:
        raise RuntimeError(f"espeak-ng produced {rate} Hz, expected {ESPEAK_RATE}")
    # 22050 -> 16000 = 320/441
    return resample_poly(pcm, 320, 441).astype(np.float32)


def trim_silence(audio: np.ndarray, threshold_db: float = -40.0, frame: int = 80) -> np.ndarray:
    """Cut leading/trailing silence: the kept span defines the word's true start and end."""
    if audio.size == 0:
        raise ValueError("empty synthesis")
    peak = float(np.max(np.abs(audio)))
    if peak == 0.0:
        raise ValueError("silent synthesis")
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1))
    active = np.nonzero(rms > peak * 10 ** (threshold_db / 20))[0]
    if active.size == 0:
        raise ValueError("no active frames")
    start = int(active[0]) * frame
    end = min(len(audio), (int(active[-1]) + 1) * frame)
    return audio[start:end].copy()


def all_speakers(lang: str) -> list[Speaker]:
    return [
        Speaker(v, var, s, p) for v in BASE_VOICES[lang] for var in VARIANTS for s in SPEEDS for p in PITCHES
    ]


@dataclass(frozen=True)
class UtterancePlan:
    """Everything random about an utterance, drawn before any audio exists (so it can be prefetched)."""

    lang: str
    speaker: Speaker
    words: tuple[str, ...]
    lead_s: float
    gaps_s: tuple[float, ...]
    tail_s: float
    gain: float
    noise_db: float
    noise_seed: int


def plan_utterances(count: int, seed: int, max_words: int = 24) -> list[UtterancePlan]:
    rng = np.random.default_rng(seed)
    langs = sorted(VOCABULARY)
    speakers = {lang: all_speakers(lang) for lang in langs}
    plans = []
    for _ in range(count):
        lang = langs[int(rng.integers(len(langs)))]
        speaker = speakers[lang][int(rng.integers(len(speakers[lang])))]
        vocab = VOCABULARY[lang]
        n_words = int(rng.integers(1, max_words + 1))
        words = tuple(vocab[int(i)] for i in rng.integers(len(vocab), size=n_words))
        # Mostly short gaps, sometimes a real pause (as between phrases).
        gaps = tuple(
            float(rng.uniform(0.5, 1.0)) if rng.random() < 0.08 else float(rng.uniform(0.03, 0.2))
            for _ in range(n_words - 1)
        )
        plans.append(
            UtterancePlan(
                lang=lang,
                speaker=speaker,
                words=words,
                lead_s=float(rng.uniform(0.1, 0.6)),
                gaps_s=gaps,
                tail_s=float(rng.uniform(0.1, 0.6)),
                gain=float(rng.uniform(0.3, 0.9)),
                noise_db=float(rng.uniform(-65.0, -45.0)),
                noise_seed=int(rng.integers(2**31)),
            )
        )
    return plans


def render(plan: UtterancePlan, bank: WordBank) -> Utterance:
    """Concatenate trimmed words; stop before MAX_UTTERANCE_S; pad to at least MIN_UTTERANCE_S."""
    pieces: list[np.ndarray] = [np.zeros(int(plan.lead_s * SAMPLE_RATE), np.float32)]
    pos = len(pieces[0])
    words: list[Word] = []
    tail = int(plan.tail_s * SAMPLE_RATE)
    for i, word in enumerate(plan.words):
        audio = bank.get(plan.speaker, word)
        if words and (pos + len(audio) + tail) / SAMPLE_RATE > MAX_UTTERANCE_S:
            break
        words.append(Word(word, pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE))
        pieces.append(audio)
        pos += len(audio)
        if i < len(plan.gaps_s):
            gap = np.zeros(int(plan.gaps_s[i] * SAMPLE_RATE), np.float32)
            pieces.append(gap)
            pos += len(gap)
    if len(pieces) > 1 and len(words) < len(plan.words):
        pieces.pop()  # drop the gap after the last kept word
    audio = np.concatenate([*pieces, np.zeros(tail, np.float32)])
    if len(audio) < MIN_UTTERANCE_S * SAMPLE_RATE:
        audio = np.concatenate([audio, np.zeros(int(MIN_UTTERANCE_S * SAMPLE_RATE) - len(audio), np.float32)])
    peak = float(np.max(np.abs(audio))) or 1.0
    audio = audio / peak * plan.gain
    noise = np.random.default_rng(plan.noise_seed).standard_normal(len(audio)).astype(np.float32)
    audio = audio + noise * np.float32(10 ** (plan.noise_db / 20))
    return Utterance(
        audio=np.clip(audio, -1.0, 1.0).astype(np.float32),
        text=" ".join(w.word for w in words),
        lang=plan.lang,
        speaker=plan.speaker.name,
        words=tuple(Word(w.word, round(w.start, 3), round(w.end, 3)) for w in words),
    )


def make_utterances(count: int, seed: int, bank: WordBank, max_words: int = 24) -> list[Utterance]:
    plans = plan_utterances(count, seed, max_words)
    bank.prefetch((p.speaker, w) for p in plans for w in p.words)
    return [render(p, bank) for p in plans]


def concatenate(utterances: Sequence[Utterance], seed: int) -> Utterance:
    """A long recording: utterances separated by 0.5-3 s of (noisy) silence; word times shifted."""
    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = []
    words: list[Word] = []
    pos = 0
    for utt in utterances:
        if pieces:
            gap = rng.standard_normal(int(rng.uniform(0.5, 3.0) * SAMPLE_RATE)).astype(np.float32) * 10 ** (
                -60 / 20
            )
            pieces.append(gap.astype(np.float32))
            pos += len(gap)
        offset = pos / SAMPLE_RATE
        words.extend(Word(w.word, round(w.start + offset, 3), round(w.end + offset, 3)) for w in utt.words)
        pieces.append(utt.audio)
        pos += len(utt.audio)
    return Utterance(
        audio=np.concatenate(pieces),
        text=" ".join(w.word for w in words),
        lang="+".join(sorted({u.lang for u in utterances})),
        speaker="mixed",
        words=tuple(words),
    )


def long_recording_parts(minutes: float, seed: int, bank: WordBank) -> list[Utterance]:
    """The utterances of a long recording, in order (tests transcribe them one by one as a baseline)."""
    target = minutes * 60.0
    plans = plan_utterances(int(target / 4.0) + 50, seed)  # more than enough; used in order
    chosen: list[Utterance] = []
    total = 0.0
    bank.prefetch((p.speaker, w) for p in plans[: int(target / 6.0)] for w in p.words)
    for plan in plans:
        utt = render(plan, bank)
        if total + utt.duration > target:
            break
        chosen.append(utt)
        total += utt.duration + 1.75  # mean gap
    return chosen


def make_long_recording(minutes: float, seed: int, bank: WordBank) -> Utterance:
    """Concatenate freshly planned utterances until the recording reaches `minutes`."""
    return concatenate(long_recording_parts(minutes, seed, bank), seed + 1)


def make_mixed(count: int, seed: int, bank: WordBank, max_s: float = MAX_UTTERANCE_S) -> list[Utterance]:
    """Training clips that look like pieces of a long recording: 2-4 short utterances of different
    speakers and languages joined by 0.5-3 s pauses (max_s at most). Without them a model trained on
    single utterances inserts words in long pauses and mixes languages across a speaker change."""
    rng = np.random.default_rng(seed)
    pool = make_utterances(count * 3, seed + 1, bank, max_words=6)
    clips = []
    for i in range(count):
        k = int(rng.integers(2, 5))
        chosen = [pool[(3 * i + j) % len(pool)] for j in range(k)]
        while len(chosen) > 1 and sum(u.duration for u in chosen) + 3.0 * (len(chosen) - 1) > max_s:
            chosen.pop()
        clips.append(concatenate(chosen, seed + 1000 + i))
    return clips


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())


def manifest_entry(path: Path, utt: Utterance) -> dict[str, object]:
    return {
        "audio_filepath": str(path.resolve()),
        "duration": round(utt.duration, 3),
        "text": utt.text,
        "lang": utt.lang,
        "speaker": utt.speaker,
        "words": [{"word": w.word, "start": w.start, "end": w.end} for w in utt.words],
    }


def write_split(out: Path, split: str, utterances: Sequence[Utterance]) -> Path:
    manifest = out / f"{split}.jsonl"
    with manifest.open("w", encoding="utf-8") as f:
        for i, utt in enumerate(utterances):
            wav = out / split / f"{split}_{i:05d}.wav"
            write_wav(wav, utt.audio)
            f.write(json.dumps(manifest_entry(wav, utt), ensure_ascii=False) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("build/corpus"))
    parser.add_argument("--cache", type=Path, default=Path("build/espeak_cache"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="base seed; splits add fixed offsets")
    parser.add_argument("--train", type=int, default=6000)
    parser.add_argument("--dev", type=int, default=150)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument(
        "--train-max-words", type=int, default=10, help="shorter training utterances train faster on CPU"
    )
    parser.add_argument("--train-mixed", type=int, default=0, help="multi-speaker clips with pauses")
    parser.add_argument("--long-minutes", type=float, nargs="*", default=[], help="e.g. 20 60")
    args = parser.parse_args(argv)

    bank = WordBank(args.cache)
    args.out.mkdir(parents=True, exist_ok=True)
    for split, count in (("dev", args.dev), ("test", args.test), ("train", args.train)):
        if count > 0:
            max_words = args.train_max_words if split == "train" else 24
            utts = make_utterances(count, args.seed * 10 + SPLIT_SEEDS[split], bank, max_words)
            manifest = write_split(args.out, split, utts)
            hours = sum(u.duration for u in utts) / 3600
            print(f"{split}: {count} utterances, {hours:.2f} h -> {manifest}", flush=True)
    if args.train_mixed > 0:
        clips = make_mixed(args.train_mixed, args.seed * 10 + SPLIT_SEEDS["mixed"], bank)
        manifest = write_split(args.out, "train_mixed", clips)
        hours = sum(u.duration for u in clips) / 3600
        print(f"train_mixed: {len(clips)} clips, {hours:.2f} h -> {manifest}", flush=True)
    for i, minutes in enumerate(args.long_minutes):
        utt = make_long_recording(minutes, args.seed * 10 + SPLIT_SEEDS["long"] + 100 * i, bank)
        wav = args.out / "long" / f"long_{minutes:g}min.wav"
        write_wav(wav, utt.audio)
        manifest = args.out / f"long_{minutes:g}min.jsonl"
        manifest.write_text(json.dumps(manifest_entry(wav, utt), ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"long: {utt.duration / 60:.1f} min, {len(utt.words)} words -> {manifest}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
