#!/usr/bin/env python3
"""Train the tiny test diarizer (gpu_job.diarization.TinyDiarizer) on generated conversations.

Why: tests and the local demo need speaker labels from a model that actually hears voices, on CPU,
offline, built by the repo. A Sortformer cannot be trained on two CPU cores in minutes; this is a
linear discriminant projection of per-window log-mel and pitch statistics (scipy, closed form),
fitted on conversations of TRAIN_VOICES + EXTRA_TRAIN_VOICES (scripts/make_diarization_set.py). The
number of speakers is NeMo's NME-SC's (no threshold to fit); the DER (pyannote.metrics) on held-out
dev conversations of those voices (1-4 minutes, like the benchmark) is printed as a check.
Evaluation (benchmarks/diarization.py) uses TEST_VOICES, which it never saw. About two minutes on one
CPU core.

    nice -n 10 python scripts/train_tiny_diarizer.py   # -> tests/fixtures/models/tiny_diarizer.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions"), str(REPO / "scripts")]

from make_diarization_set import (  # noqa: E402
    DEFAULT_CACHE,
    EXTRA_TRAIN_VOICES,
    TRAIN_VOICES,
    Conversation,
    make_conversation,
)
from make_speech_corpus import WordBank  # noqa: E402

from gpu_job.diarization import HOP_S, WINDOW_S, TinyDiarizer, file_windows  # noqa: E402

VOICES = TRAIN_VOICES + EXTRA_TRAIN_VOICES
DIMENSIONS = 16
Windows = tuple[int, np.ndarray, np.ndarray, np.ndarray]


def labelled_windows(conversation: Conversation) -> tuple[np.ndarray, np.ndarray]:
    """Window features whose speech is at least 95 % one speaker's turns, labelled by voice."""
    _, _, centres, features = file_windows(conversation.audio)
    keep, labels = [], []
    for index, centre in enumerate(centres):
        start, end = centre / 100 - WINDOW_S / 2, centre / 100 + WINDOW_S / 2
        cover = np.zeros(len(conversation.voices))
        for s, e, speaker in conversation.turns:
            cover[speaker] += max(0.0, min(e, end) - max(s, start))
        if cover.sum() > 0 and cover.max() >= 0.95 * cover.sum():
            keep.append(index)
            # speakers of different conversations may share a voice: label by voice name
            labels.append(
                next(i for i, v in enumerate(VOICES) if v.name == conversation.voices[int(np.argmax(cover))])
            )
    return features[keep], np.asarray(labels, dtype=int)


def lda(features: np.ndarray, labels: np.ndarray, dimensions: int) -> np.ndarray:
    """Fisher's linear discriminant: the directions that separate speakers best relative to the spread
    within a speaker (generalised eigenvectors of between- vs within-class scatter)."""
    from scipy.linalg import eigh

    mean = features.mean(axis=0)
    within = np.zeros((features.shape[1],) * 2)
    between = np.zeros_like(within)
    for label in np.unique(labels):
        group = features[labels == label]
        centred = group - group.mean(axis=0)
        within += centred.T @ centred
        offset = (group.mean(axis=0) - mean)[:, None]
        between += len(group) * offset @ offset.T
    within += 1e-3 * np.trace(within) / len(within) * np.eye(len(within))
    values, vectors = eigh(between, within)
    return vectors[:, np.argsort(values)[::-1][:dimensions]].astype(np.float32)


def der(diarizer: TinyDiarizer, conversations: list[tuple[Conversation, Windows]]) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate()
    for conversation, windows in conversations:
        reference, hypothesis = Annotation(), Annotation()
        for start, end, speaker in conversation.turns:
            reference[Segment(start, end)] = speaker
        for turn in diarizer.turns(*windows, max_speakers=4):
            hypothesis[Segment(turn.start, turn.end)] = turn.speaker
        metric(reference, hypothesis)
    return float(abs(metric))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "tests" / "fixtures" / "models" / "tiny_diarizer.npz"
    )
    parser.add_argument("--train", type=int, default=40, help="training conversations (1-2 minutes each)")
    parser.add_argument("--dev", type=int, default=6, help="dev conversations (1-4 minutes each)")
    parser.add_argument("--cache", type=Path, default=REPO / DEFAULT_CACHE)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bank = WordBank(args.cache)
    train = [make_conversation(7000 + i, 2 + i % 3, 1.0, VOICES, bank) for i in range(args.train)]
    rng = np.random.default_rng(8)
    dev = [
        make_conversation(8000 + i, 2 + i % 3, float(rng.uniform(1.0, 4.0)), VOICES, bank)
        for i in range(args.dev)
    ]
    pairs = [labelled_windows(conversation) for conversation in train]
    x, y = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    projection = lda((x - mean) / scale, y, DIMENSIONS)
    dev_windows = [(conversation, file_windows(conversation.audio)) for conversation in dev]
    dev_der = der(TinyDiarizer(mean, scale, projection), dev_windows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        mean=mean,
        scale=scale,
        projection=projection,
        window_s=np.float32(WINDOW_S),
        hop_s=np.float32(HOP_S),
    )
    print(
        f"{len(x)} training windows of {len(np.unique(y))} voices; dev DER {dev_der:.3f}; "
        f"wrote {args.out} in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
