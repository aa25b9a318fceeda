"""Speaker diarization of the decoded 16 kHz mono signal: who speaks when (docs/SPEAKERS.md).

One interface, two implementations:

- `SortformerDiarizer` (production): NeMo's streaming Sortformer, `nvidia/diar_streaming_sortformer_4spk-v2.1`
  (NVIDIA Open Model License, commercial use allowed; v2 is CC-BY-4.0; the *offline*
  `diar_sortformer_4spk-v1` is CC-BY-NC-4.0, non-commercial, and must not be used). Weights are baked
  into the image like Parakeet's (gpu_job/Dockerfile). Streaming mode walks the features in chunks
  with its speaker cache and FIFO, so the model's memory does not grow with the file; the features
  themselves (128 mel x 100 frames/s, ~51 kB per audio second) are held once.
- `TinyDiarizer` (tests, CPU): an embedding + clustering diarizer whose projection the repo trains in
  a minute on generated espeak-ng conversations (scripts/train_tiny_diarizer.py). Not a Sortformer:
  training one on two CPU cores in minutes is not realistic; it answers the same interface so the
  pipeline's speaker labels are checked on real audio. It cannot detect overlapped speech.

Both return `SpeakerTurn`s on the file's timeline; gpu_job.speakers assigns them to words. Both run on
the samples the ASR path already decoded (no second download or decode).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gpu_job.speakers import SpeakerTurn

SAMPLE_RATE = 16_000
SORTFORMER_DEFAULT = "nvidia/diar_streaming_sortformer_4spk-v2.1"
# The diarizer the job loads: a pretrained name (production, baked into the image) or a path to the
# tiny diarizer (.npz, tests) or a .nemo file.
DIARIZER_ENV = "GPU_JOB_DIARIZER"
ACTIVITY_THRESHOLD = 0.5  # a speaker is active in a frame when its probability reaches this
MIN_TURN_S = 0.2  # shorter activity is dropped (clicks, breaths), shorter gaps of one speaker are bridged


class Diarizer(Protocol):
    @property
    def name(self) -> str:
        """What the transcript's speakers.model records."""
        ...

    def diarize(self, samples: np.ndarray, max_speakers: int) -> list[SpeakerTurn]:
        """Turns of at most `max_speakers` speakers in 16 kHz mono float32 `samples`."""
        ...


def activity_to_turns(
    probs: np.ndarray, frame_s: float, threshold: float = ACTIVITY_THRESHOLD, min_turn_s: float = MIN_TURN_S
) -> list[SpeakerTurn]:
    """Frame-by-speaker activity probabilities -> turns (each speaker's runs of active frames, gaps
    shorter than `min_turn_s` bridged, runs shorter than it dropped), sorted by start."""
    turns: list[SpeakerTurn] = []
    min_frames = max(1, round(min_turn_s / frame_s))
    for speaker in range(probs.shape[1]):
        active = probs[:, speaker] >= threshold
        runs: list[list[int]] = []
        index = 0
        while index < len(active):
            if not active[index]:
                index += 1
                continue
            end = index
            while end < len(active) and active[end]:
                end += 1
            if runs and index - runs[-1][1] < min_frames:
                runs[-1][1] = end
            else:
                runs.append([index, end])
            index = end
        turns += [
            SpeakerTurn(round(s * frame_s, 3), round(e * frame_s, 3), speaker)
            for s, e in runs
            if e - s >= min_frames
        ]
    return sorted(turns)


# ------------------------------------------------------------------ test path: embeddings + clustering
WINDOW_S = 1.0  # one embedding per window of speech
HOP_S = 0.25
N_MELS = 40


def log_mel(samples: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) log-mel energies, 25 ms windows every 10 ms."""
    import librosa  # a NeMo dependency

    mel = librosa.feature.melspectrogram(
        y=samples.astype(np.float32), sr=SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=N_MELS, fmax=8000
    )
    return np.log(mel.T + 1e-6).astype(np.float32)


def speech_frames(mel: np.ndarray, margin_db: float = 30.0) -> np.ndarray:
    """Frames within `margin_db` of the loud end of the file: speech, on the generated and clean sets."""
    energy = mel.max(axis=1) * (10 / np.log(10))
    return energy > np.percentile(energy, 95) - margin_db


def window_features(mel: np.ndarray, speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centres in frames, features): mean and standard deviation of the speech frames of each window
    (a window with under half its frames speech gets none)."""
    width, hop = round(WINDOW_S * 100), round(HOP_S * 100)
    centres, rows = [], []
    for start in range(0, max(1, len(mel) - width + 1), hop):
        keep = speech[start : start + width]
        if keep.sum() < width // 2:
            continue
        frames = mel[start : start + width][keep]
        centres.append(start + width // 2)
        rows.append(np.concatenate([frames.mean(axis=0), frames.std(axis=0)]))
    if not rows:
        return np.zeros(0, dtype=int), np.zeros((0, 2 * N_MELS), dtype=np.float32)
    return np.asarray(centres), np.asarray(rows, dtype=np.float32)


@dataclass(frozen=True)
class TinyDiarizer:
    """Window features -> trained linear projection -> cosine agglomerative clustering.

    `projection` None is the untrained clustering baseline (benchmarks/diarization.py)."""

    mean: np.ndarray
    scale: np.ndarray
    projection: np.ndarray | None
    threshold: float
    name: str = "tiny-diarizer"

    @classmethod
    def load(cls, path: str | Path) -> TinyDiarizer:
        data = np.load(path)
        return cls(
            data["mean"],
            data["scale"],
            data["projection"],
            float(data["threshold"]),
            name=f"tiny-diarizer:{Path(path).name}",
        )

    def embed(self, features: np.ndarray) -> np.ndarray:
        x = (features - self.mean) / self.scale
        if self.projection is not None:
            x = x @ self.projection
        return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)

    def diarize(self, samples: np.ndarray, max_speakers: int) -> list[SpeakerTurn]:
        from scipy.cluster.hierarchy import fcluster, linkage

        if len(samples) < SAMPLE_RATE * WINDOW_S:
            return []
        mel = log_mel(samples)
        speech = speech_frames(mel)
        centres, features = window_features(mel, speech)
        if len(centres) == 0:
            return []
        if len(centres) == 1 or max_speakers == 1:
            labels = np.zeros(len(centres), dtype=int)
        else:
            tree = linkage(self.embed(features), method="average", metric="cosine")
            labels = fcluster(tree, t=self.threshold, criterion="distance") - 1
            if labels.max() + 1 > max_speakers:
                labels = fcluster(tree, t=max_speakers, criterion="maxclust") - 1
        # Each speech frame takes the label of the nearest window centre.
        probs = np.zeros((len(mel), int(labels.max()) + 1), dtype=np.float32)
        nearest = np.searchsorted((centres[1:] + centres[:-1]) / 2, np.arange(len(mel)))
        probs[np.arange(len(mel)), labels[nearest]] = speech
        return activity_to_turns(probs, frame_s=0.01)


# ------------------------------------------------------------------ production: Sortformer (NeMo)
@dataclass
class SortformerDiarizer:
    """NeMo streaming Sortformer on the device the ASR model uses. Speakers are numbered in order of
    arrival by the model itself; `max_speakers` drops the slots beyond it (the model has four)."""

    model: Any
    name: str

    # The model card's "high latency" streaming preset (80 ms frames): chunk 124, right context 1,
    # FIFO 124, speaker-cache update period 124, cache 188. Bounded memory, best accuracy of the presets.
    CHUNK_FRAMES = 124
    RIGHT_CONTEXT = 1
    FIFO_FRAMES = 124
    UPDATE_PERIOD = 124
    CACHE_FRAMES = 188
    FRAME_S = 0.08

    @classmethod
    def load(cls, name_or_path: str, device: str) -> SortformerDiarizer:
        from nemo.collections.asr.models import SortformerEncLabelModel

        if name_or_path.endswith(".nemo") and Path(name_or_path).exists():
            model = SortformerEncLabelModel.restore_from(name_or_path, map_location=device)
        else:
            model = SortformerEncLabelModel.from_pretrained(name_or_path, map_location=device)
        model.eval()
        modules = model.sortformer_modules
        modules.chunk_len = cls.CHUNK_FRAMES
        modules.chunk_right_context = cls.RIGHT_CONTEXT
        modules.fifo_len = cls.FIFO_FRAMES
        modules.spkcache_update_period = cls.UPDATE_PERIOD
        modules.spkcache_len = cls.CACHE_FRAMES
        model.streaming_mode = True
        return cls(model, name_or_path)

    def diarize(self, samples: np.ndarray, max_speakers: int) -> list[SpeakerTurn]:
        import torch

        if len(samples) == 0:
            return []
        with torch.inference_mode():
            signal = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None, :]
            length = torch.tensor([signal.shape[1]])
            probs = self.model.forward(audio_signal=signal, audio_signal_length=length)
        activity = probs[0].float().cpu().numpy()[:, :max_speakers]
        return activity_to_turns(activity, self.FRAME_S)


_LOADED: dict[tuple[str, str], Diarizer] = {}


def load_diarizer(name_or_path: str | None = None, device: str = "cpu") -> Diarizer:
    """The diarizer named by `name_or_path` (default: GPU_JOB_DIARIZER, else Sortformer v2.1), memoised
    per process like the ASR model: a `.npz` is the tiny test diarizer, anything else Sortformer."""
    name = name_or_path or os.environ.get(DIARIZER_ENV) or SORTFORMER_DEFAULT
    key = (name, device)
    if key not in _LOADED:
        if name.endswith(".npz"):
            _LOADED[key] = TinyDiarizer.load(name)
        else:
            _LOADED[key] = SortformerDiarizer.load(name, device)
    return _LOADED[key]
