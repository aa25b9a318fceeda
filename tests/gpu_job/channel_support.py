"""Generated multi-channel and multi-track fixtures with known words (tests/gpu_job/test_channels.py).

Speech is the synthetic corpus's held-out split (scripts/make_speech_corpus.py, espeak-ng), so the
tiny speech model knows the voices but never heard these utterances. A "call" puts the agent on the
left channel and the customer on the right, taking turns; each side's silent stretches carry faint
line noise (-60 dBFS), and an optional echo of the other side (`bleed_db`) models crosstalk.
Nothing binary is committed: every file is written at test time.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.gpu_job import accuracy_support as acc
from tests.gpu_job.media_support import ffmpeg

SAMPLE_RATE = 16000
TURN_GAP_S = 0.8


@dataclass(frozen=True)
class Call:
    left: np.ndarray  # float32 samples of the agent channel
    right: np.ndarray
    words: tuple[tuple[int, acc.TruthWord], ...]  # (channel, word) in time order


def utterances(count: int, cache: Path, max_s: float = 7.0) -> list[object]:
    """The first held-out utterances of at most `max_s` (the generator's test split)."""
    gen = acc.corpus_generator()
    bank = gen.WordBank(cache)
    chosen = [u for u in gen.make_utterances(count * 4, acc.heldout_seed(), bank) if u.duration <= max_s]
    assert len(chosen) >= count
    return chosen[:count]


def make_call(turns: list[tuple[int, object]], bleed_db: float | None = None, seed: int = 3) -> Call:
    """Channel `c` speaks utterance `u` for each (c, u) in turn, TURN_GAP_S apart."""
    pieces: list[tuple[int, np.ndarray]] = []
    words: list[tuple[int, acc.TruthWord]] = []
    pos = int(0.3 * SAMPLE_RATE)
    for channel, utt in turns:
        audio = np.asarray(utt.audio, dtype=np.float32)  # type: ignore[attr-defined]
        offset = pos / SAMPLE_RATE
        for w in utt.words:  # type: ignore[attr-defined]
            start, end = round(w.start + offset, 3), round(w.end + offset, 3)
            words.append((channel, acc.TruthWord(w.word, start, end)))
        pieces.append((pos, audio))
        pos += audio.shape[0] + int(TURN_GAP_S * SAMPLE_RATE)
    total = pos
    rng = np.random.default_rng(seed)
    noise = np.float32(10 ** (-60 / 20))
    channels = [rng.standard_normal(total).astype(np.float32) * noise for _ in range(2)]
    for (start, audio), (channel, _utt) in zip(pieces, turns, strict=True):
        channels[channel][start : start + audio.shape[0]] += audio
        if bleed_db is not None:
            channels[1 - channel][start : start + audio.shape[0]] += audio * np.float32(10 ** (bleed_db / 20))
    return Call(channels[0], channels[1], tuple(words))


def write_stereo(path: Path, left: np.ndarray, right: np.ndarray) -> Path:
    stereo = np.stack([left, right], axis=1)
    pcm = (np.clip(stereo, -1.0, 1.0) * 32767.0).round().astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return path


def write_mono(path: Path, samples: np.ndarray) -> Path:
    acc.corpus_generator().write_wav(path, samples)
    return path


def write_two_tracks(path: Path, first: Path, second: Path, language: str = "eng") -> Path:
    """A Matroska file with two audio tracks, the *second* marked default (and tagged `language`)."""
    ffmpeg(
        "-i",
        str(first),
        "-i",
        str(second),
        "-map",
        "0:a",
        "-map",
        "1:a",
        "-c:a",
        "flac",
        "-disposition:a:0",
        "0",
        "-disposition:a:1",
        "default",
        "-metadata:s:a:1",
        f"language={language}",
        str(path),
    )
    return path
