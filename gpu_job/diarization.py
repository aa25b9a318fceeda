"""Speaker diarization of the decoded 16 kHz mono signal: who speaks when (docs/SPEAKERS.md).

One interface, two implementations:

- `SortformerDiarizer` (production): NeMo's streaming Sortformer, `nvidia/diar_streaming_sortformer_4spk-v2.1`
  (NVIDIA Open Model License, commercial use allowed; v2 is CC-BY-4.0; the *offline*
  `diar_sortformer_4spk-v1` is CC-BY-NC-4.0, non-commercial, and must not be used). Weights are baked
  into the image like Parakeet's (gpu_job/Dockerfile). `SortformerStream` feeds it the file as
  it is decoded, chunk by chunk with its speaker cache and FIFO, so memory does not grow with the file.
- `TinyDiarizer` (tests, CPU): an embedding + clustering diarizer whose projection the repo trains in
  a minute on generated espeak-ng conversations (scripts/train_tiny_diarizer.py). Not a Sortformer:
  training one on two CPU cores in minutes is not realistic; it answers the same interface so the
  pipeline's speaker labels are checked on real audio. It cannot detect overlapped speech.

Both return `SpeakerTurn`s on the file's timeline; gpu_job.speakers assigns them to words. Both run on
the samples the ASR path already decoded (no second download or decode).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gpu_job.speakers import SpeakerTurn

SAMPLE_RATE = 16_000
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


class DiarizerStream(Protocol):
    """One file fed block by block (a diarizer with a ``stream(max_speakers)`` method opens one;
    gpu_job.speaker_track gives any other diarizer the whole signal at the end)."""

    def push(self, samples: np.ndarray) -> None: ...

    def finish(self) -> list[SpeakerTurn]: ...


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
WINDOW_S = 1.5  # one embedding per window of speech: long enough to average over several words
HOP_S = 0.25
N_MELS = 40
N_FEATURES = 2 * N_MELS + 3  # log-mel mean and std, then median log-F0, its spread, voiced share
VOICED = 0.6  # normalised autocorrelation peak above which a frame counts as voiced
# Each speaker found needs this many windows (5 s of speech): on fewer, the eigengap splits one voice
# (one-voice 6-10 s calls came out as 3-4 speakers without it; docs/SPEAKERS.md).
WINDOWS_PER_SPEAKER = round(5.0 / HOP_S)


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
    return np.asarray(energy > np.percentile(energy, 95) - margin_db)


def pitch(samples: np.ndarray, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(log-F0, voicing strength) per 10 ms frame, by the normalised autocorrelation of 40 ms frames
    (divided by the window's own autocorrelation, so long lags of low voices are not penalised).
    Why: pitch is the cue that separates voices whose spectra are close; the mel bands blur it."""
    frame, hop = 640, 160
    padded = np.pad(samples.astype(np.float32), (frame // 2, frame // 2))
    index = np.minimum(np.arange(n_frames)[:, None] * hop + np.arange(frame)[None, :], len(padded) - 1)
    window = np.hanning(frame).astype(np.float32)
    x = padded[index] * window
    x = x - x.mean(axis=1, keepdims=True)
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, 2 * frame)) ** 2)[:, :frame]
    own = np.fft.irfft(np.abs(np.fft.rfft(window, 2 * frame)) ** 2)[:frame]
    ac = ac / (ac[:, :1] + 1e-9) / (own / own[0] + 1e-3)
    low, high = SAMPLE_RATE // 400, SAMPLE_RATE // 60
    lag = low + np.argmax(ac[:, low:high], axis=1)
    strength = ac[np.arange(n_frames), lag]
    return np.log(SAMPLE_RATE / lag).astype(np.float32), strength.astype(np.float32)


def window_features(
    mel: np.ndarray, speech: np.ndarray, f0: np.ndarray | None = None, voicing: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(centres in frames, features): per window, the mean and standard deviation of its speech
    frames' log-mel, and (with `f0`/`voicing`) the median and spread of the voiced frames' log-F0 and
    the voiced share (zeros without). A window with under a quarter of its frames speech gets none."""
    width, hop = round(WINDOW_S * 100), round(HOP_S * 100)
    centres, rows = [], []
    for start in range(0, max(1, len(mel) - width + 1), hop):
        keep = speech[start : start + width]
        if keep.sum() < width // 4:
            continue
        frames = mel[start : start + width][keep]
        tone = np.zeros(3, np.float32)
        if f0 is not None and voicing is not None:
            log_f0 = f0[start : start + width][keep]
            voiced = voicing[start : start + width][keep] > VOICED
            values = log_f0[voiced] if voiced.sum() >= 3 else log_f0
            quartiles = np.percentile(values, [25, 50, 75])
            tone = np.array([quartiles[1], quartiles[2] - quartiles[0], voiced.mean()], np.float32)
        centres.append(start + width // 2)
        rows.append(np.concatenate([frames.mean(axis=0), frames.std(axis=0), tone]))
    if not rows:
        return np.zeros(0, dtype=int), np.zeros((0, N_FEATURES), dtype=np.float32)
    return np.asarray(centres), np.asarray(rows, dtype=np.float32)


def file_windows(samples: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(frames, speech mask, window centres, window features) of one file: what training and
    diarizing both compute, so they cannot drift apart."""
    mel = log_mel(samples)
    speech = speech_frames(mel)
    f0, voicing = pitch(samples, len(mel))
    centres, features = window_features(mel, speech, f0, voicing)
    return len(mel), speech, centres, features


@dataclass(frozen=True)
class TinyDiarizer:
    """Window features (log-mel statistics and pitch) -> trained linear projection -> NeMo's NME-SC
    (normalised maximum eigengap spectral clustering, `SpeakerClustering`), which finds both the number
    of speakers (up to max_speakers) and the labels from the windows' cosine affinities.

    Why NME-SC and not a tuned threshold: a d' threshold fitted on 6 dev conversations gave 22.6 % DER on
    the benchmark's unseen voices, mostly by miscounting; the eigengap needs no threshold and gives 9.7 %
    (benchmarks/diarization.py, docs/SPEAKERS.md).
    `projection` None is the untrained clustering baseline (benchmarks/diarization.py)."""

    mean: np.ndarray
    scale: np.ndarray
    projection: np.ndarray | None
    name: str = "tiny-diarizer"

    @classmethod
    def load(cls, path: str | Path) -> TinyDiarizer:
        data = np.load(path)
        return cls(
            data["mean"],
            data["scale"],
            data["projection"],
            name=f"tiny-diarizer:{Path(path).name}",
        )

    def embed(self, features: np.ndarray) -> np.ndarray:
        x = (features - self.mean) / self.scale
        if self.projection is not None:
            x = x @ self.projection
        return np.asarray(x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9))

    def cluster(self, embeddings: np.ndarray, max_speakers: int) -> np.ndarray:
        """Window labels 0..k-1 from NME-SC over the windows' cosine affinities (NeMo's defaults; its
        k-means seed is fixed, so the same file always gets the same labels), with at most one speaker
        per WINDOWS_PER_SPEAKER windows."""
        most = min(max_speakers, len(embeddings) // WINDOWS_PER_SPEAKER)
        if most < 2:
            return np.zeros(len(embeddings), dtype=int)
        import torch
        from nemo.collections.asr.parts.utils.offline_clustering import (
            SpeakerClustering,
            getCosAffinityMatrix,
        )

        affinity = getCosAffinityMatrix(torch.from_numpy(np.ascontiguousarray(embeddings, np.float32)))
        labels = SpeakerClustering(cuda=False).forward_unit_infer(affinity, max_num_speakers=most)
        return np.unique(labels.cpu().numpy(), return_inverse=True)[1].reshape(-1)

    def diarize(self, samples: np.ndarray, max_speakers: int) -> list[SpeakerTurn]:
        if len(samples) < SAMPLE_RATE * WINDOW_S:
            return []
        return self.turns(*file_windows(samples), max_speakers=max_speakers)

    def turns(
        self, frames: int, speech: np.ndarray, centres: np.ndarray, features: np.ndarray, max_speakers: int
    ) -> list[SpeakerTurn]:
        """Turns from one file's `file_windows` (training sweeps the threshold on them without
        recomputing the features)."""
        if len(centres) == 0:
            return []
        labels = self.cluster(self.embed(features), max_speakers)
        # Each speech frame takes the label of the nearest window centre.
        probs = np.zeros((frames, int(labels.max()) + 1), dtype=np.float32)
        nearest = np.searchsorted((centres[1:] + centres[:-1]) / 2, np.arange(frames))
        probs[np.arange(frames), labels[nearest]] = speech
        return activity_to_turns(probs, frame_s=0.01)


# ------------------------------------------------------------------ production: Sortformer (NeMo)
BLOCK_FRAMES = 1000  # features are computed 1000 hops (10 s) at a time


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
        return cls.load_model(model, name_or_path)

    @classmethod
    def load_model(cls, model: Any, name: str) -> SortformerDiarizer:
        """A loaded SortformerEncLabelModel set to the streaming preset below."""
        model.eval()
        modules = model.sortformer_modules
        modules.chunk_len = cls.CHUNK_FRAMES
        modules.chunk_right_context = cls.RIGHT_CONTEXT
        modules.fifo_len = cls.FIFO_FRAMES
        modules.spkcache_update_period = cls.UPDATE_PERIOD
        modules.spkcache_len = cls.CACHE_FRAMES
        model.streaming_mode = True
        return cls(model, name)

    def stream(self, max_speakers: int) -> DiarizerStream:
        normalize = getattr(self.model.preprocessor.featurizer, "normalize", None)
        if normalize not in (None, "", "NA", "None"):
            # Per-file feature normalisation cannot be computed block by block: NeMo's own whole-file path.
            return _WholeFile(self, max_speakers)
        return SortformerStream(self.model, max_speakers, self.FRAME_S)

    def diarize(self, samples: np.ndarray, max_speakers: int) -> list[SpeakerTurn]:
        """NeMo's whole-file streaming forward (`model.forward` in streaming mode)."""
        import torch

        if len(samples) == 0:
            return []
        with torch.inference_mode():
            signal = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None, :]
            probs = self.model.forward(
                audio_signal=signal, audio_signal_length=torch.tensor([signal.shape[1]])
            )
        return activity_to_turns(probs[0].float().cpu().numpy()[:, :max_speakers], self.FRAME_S)


@dataclass
class _WholeFile:
    diarizer: SortformerDiarizer
    max_speakers: int
    blocks: list[np.ndarray] = field(default_factory=list)

    def push(self, samples: np.ndarray) -> None:
        self.blocks.append(np.asarray(samples, dtype=np.float32))

    def finish(self) -> list[SpeakerTurn]:
        signal = np.concatenate(self.blocks) if self.blocks else np.zeros(0, np.float32)
        return self.diarizer.diarize(signal, self.max_speakers)


class SortformerStream:
    """One file through Sortformer's streaming step as its samples arrive, in bounded memory.

    NeMo's `forward_streaming` wants the whole file's features at once; this is the same loop
    (`sortformer_modules.streaming_feat_loader`'s chunk and context arithmetic, then
    `forward_streaming_step`), fed incrementally: features are computed block by block with
    a margin of context either side (more than half the STFT window plus the pre-emphasis tap; the
    streaming models do no per-file feature normalisation, so a block's frames equal the whole
    signal's), and a chunk is stepped as soon as its right context
    has arrived. Held at any time: under a block of samples, a chunk of features plus its contexts, the
    speaker cache and FIFO, and the per-frame probabilities (4 floats per 80 ms)."""

    def __init__(self, model: Any, max_speakers: int, frame_s: float):
        import torch

        self.model, self.max_speakers, self.frame_s = model, max_speakers, frame_s
        modules = model.sortformer_modules
        self.sub = int(modules.subsampling_factor)
        self.chunk = int(modules.chunk_len) * self.sub
        self.left = int(modules.chunk_left_context) * self.sub
        self.right = int(modules.chunk_right_context) * self.sub
        featurizer = model.preprocessor.featurizer
        self.hop = int(featurizer.hop_length)
        self.margin = -(-(int(featurizer.n_fft) // 2 + 1) // self.hop) * self.hop + self.hop
        self.device = model.device
        self.state = modules.init_streaming_state(
            batch_size=1, async_streaming=model.async_streaming, device=self.device
        )
        self.preds = torch.zeros((1, 0, modules.n_spk), device=self.device)
        self.samples = np.zeros(0, np.float32)  # not yet turned into features
        self.samples_at = 0  # global index of self.samples[0]
        self.total_samples = 0
        self.feats: Any = None  # (features, frames) from global frame self.feats_at
        self.feats_at = 0
        self.next_chunk = 0  # global frame where the next chunk starts

    # -- features
    def _features(self, segment: np.ndarray) -> tuple[Any, int]:
        """(features, frames): the preprocessor's valid frames of `segment` (its length // hop)."""
        import torch

        signal = torch.from_numpy(np.ascontiguousarray(segment, dtype=np.float32))[None, :].to(self.device)
        length = torch.tensor([signal.shape[1]], device=self.device)
        feats, frames = self.model.preprocessor(input_signal=signal, length=length)
        return feats[0], int(frames[0])

    def _append_frames(self, first: int, last: int | None) -> None:
        """Compute global frames [first, last) (None: to the end of the file) and append them."""
        import torch

        start = max(0, first * self.hop - self.margin)
        stop = self.total_samples if last is None else last * self.hop + self.margin
        segment = self.samples[start - self.samples_at : stop - self.samples_at]
        frames, valid = self._features(segment)  # frame j is centred on sample start + j * hop
        offset = (first * self.hop - start) // self.hop
        new = frames[:, offset : valid if last is None else offset + (last - first)]
        self.feats = new if self.feats is None else torch.cat([self.feats, new], dim=1)
        if last is not None:  # keep only what the next block's margin needs
            keep_from = max(0, last * self.hop - self.margin)
            self.samples = self.samples[keep_from - self.samples_at :]
            self.samples_at = keep_from

    # -- chunks
    def _step(self, feat_len: int | None) -> bool:
        """Run the next chunk if its frames (and right context, unless `feat_len` says the file has
        ended there) are in; drop features no later chunk needs. False when it must wait."""
        import torch

        have = self.feats_at + (self.feats.shape[1] if self.feats is not None else 0)
        stt = self.next_chunk
        end = stt + self.chunk if feat_len is None else min(stt + self.chunk, feat_len)
        right = self.right if feat_len is None else min(self.right, feat_len - end)
        if end <= stt or end + right > have:
            return False
        left = min(self.left, stt)
        chunk = self.feats[:, stt - left - self.feats_at : end + right - self.feats_at]
        length = torch.tensor([chunk.shape[1]], device=self.device)
        self.state, self.preds = self.model.forward_streaming_step(
            processed_signal=chunk.T[None],
            processed_signal_length=length,
            streaming_state=self.state,
            total_preds=self.preds,
            left_offset=left,
            right_offset=right,
        )
        self.next_chunk = end
        drop = max(0, end - self.left - self.feats_at)
        self.feats = self.feats[:, drop:]
        self.feats_at += drop
        return True

    def push(self, samples: np.ndarray) -> None:
        import torch

        if samples.shape[0] == 0:
            return
        self.samples = np.concatenate([self.samples, np.asarray(samples, dtype=np.float32)])
        self.total_samples += samples.shape[0]
        with torch.inference_mode():
            while True:
                done = self.feats_at + (self.feats.shape[1] if self.feats is not None else 0)
                ready = (self.total_samples - self.margin) // self.hop  # frames with their full margin
                if ready - done < BLOCK_FRAMES:
                    break
                self._append_frames(done, done + BLOCK_FRAMES)
                while self._step(None):
                    pass

    def finish(self) -> list[SpeakerTurn]:
        import torch

        if self.total_samples == 0:
            return []
        with torch.inference_mode():
            done = self.feats_at + (self.feats.shape[1] if self.feats is not None else 0)
            self._append_frames(done, None)
            feat_len = self.feats_at + self.feats.shape[1]
            while self._step(feat_len):
                pass
        activity = self.preds[0].float().cpu().numpy()[:, : self.max_speakers]
        return activity_to_turns(activity, self.frame_s)


_LOADED: dict[tuple[str, str], Diarizer] = {}


def load_diarizer(name_or_path: str | None = None, device: str = "cpu") -> Diarizer:
    """The diarizer named by `name_or_path` (default: gpu_job.config.default_diarizer()), memoised per
    process like the ASR model: a `.npz` is the tiny test diarizer, anything else Sortformer."""
    from gpu_job.config import default_diarizer

    name = name_or_path or default_diarizer()
    key = (name, str(device))
    if key not in _LOADED:
        if name.endswith(".npz"):
            _LOADED[key] = TinyDiarizer.load(name)
        else:
            _LOADED[key] = SortformerDiarizer.load(name, str(device))
    return _LOADED[key]
