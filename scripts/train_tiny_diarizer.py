#!/usr/bin/env python3
"""Train the tiny test diarizer (gpu_job.diarization.TinyDiarizer) on generated conversations.

Why: tests and the local demo need speaker labels from a model that actually hears voices, on CPU,
offline, built by the repo. A Sortformer cannot be trained on two CPU cores in minutes; this is a
linear discriminant projection of per-window log-mel statistics (scipy, closed form), fitted on
conversations of TRAIN_VOICES (scripts/make_diarization_set.py), then the clustering threshold that
gives the lowest DER (pyannote.metrics) on held-out dev conversations of the same voices. Evaluation
(benchmarks/diarization.py) uses TEST_VOICES, which it never saw. About a minute on one CPU core.

    nice -n 10 python scripts/train_tiny_diarizer.py --out build/models/tiny_diarizer.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions"), str(REPO / "scripts")]

from make_diarization_set import DEFAULT_CACHE, TRAIN_VOICES, Conversation, make_conversation  # noqa: E402
from make_speech_corpus import WordBank  # noqa: E402

from gpu_job.diarization import (  # noqa: E402
    HOP_S,
    WINDOW_S,
    TinyDiarizer,
    log_mel,
    speech_frames,
    window_features,
)

DIMENSIONS = 16
THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.025, 1.0, 0.025))


def labelled_windows(conversation: Conversation) -> tuple[np.ndarray, np.ndarray]:
    """Window features whose window is at least 80 % one speaker's turn, with that speaker's label."""
    mel = log_mel(conversation.audio)
    centres, features = window_features(mel, speech_frames(mel))
    keep, labels = [], []
    for index, centre in enumerate(centres):
        start, end = centre / 100 - WINDOW_S / 2, centre / 100 + WINDOW_S / 2
        cover = np.zeros(len(conversation.voices))
        for s, e, speaker in conversation.turns:
            cover[speaker] += max(0.0, min(e, end) - max(s, start))
        if cover.max() >= 0.8 * WINDOW_S and (cover > 0.05).sum() == 1:
            keep.append(index)
            labels.append(int(np.argmax(cover)))
    return features[keep], np.asarray(labels)


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


def der(diarizer: TinyDiarizer, conversations: list[Conversation]) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate()
    for conversation in conversations:
        reference, hypothesis = Annotation(), Annotation()
        for start, end, speaker in conversation.turns:
            reference[Segment(start, end)] = speaker
        for turn in diarizer.diarize(conversation.audio, max_speakers=4):
            hypothesis[Segment(turn.start, turn.end)] = turn.speaker
        metric(reference, hypothesis)
    return float(abs(metric))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "build" / "models" / "tiny_diarizer.npz")
    parser.add_argument("--train", type=int, default=12, help="training conversations (about a minute each)")
    parser.add_argument("--dev", type=int, default=4)
    parser.add_argument("--cache", type=Path, default=REPO / DEFAULT_CACHE)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bank = WordBank(args.cache)
    train = [make_conversation(7000 + i, 2 + i % 3, 1.0, TRAIN_VOICES, bank) for i in range(args.train)]
    dev = [make_conversation(8000 + i, 2 + i % 3, 1.0, TRAIN_VOICES, bank) for i in range(args.dev)]
    features, labels = [], []
    for number, conversation in enumerate(train):
        x, y = labelled_windows(conversation)
        # speakers of different conversations may share a voice: label by voice name
        features.append(x)
        labels += [
            TRAIN_VOICES.index(next(v for v in TRAIN_VOICES if v.name == conversation.voices[s])) for s in y
        ]
        del number
    x, y = np.concatenate(features), np.asarray(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    projection = lda((x - mean) / scale, y, DIMENSIONS)
    scores = {}
    for threshold in THRESHOLDS:
        scores[threshold] = der(TinyDiarizer(mean, scale, projection, threshold), dev)
    best = min(scores, key=lambda t: (scores[t], t))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        mean=mean,
        scale=scale,
        projection=projection,
        threshold=np.float32(best),
        window_s=np.float32(WINDOW_S),
        hop_s=np.float32(HOP_S),
    )
    print(
        f"{len(x)} training windows of {len(np.unique(y))} voices; dev DER {scores[best]:.3f} at threshold "
        f"{best}; wrote {args.out} in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
