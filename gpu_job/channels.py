"""Which signal of a multi-channel track is transcribed: the mix, each channel, or one channel.

The requested mode (docs/CHANNELS.md) is the upload's `channel-mode` tag, else CHANNEL_MODE:

- `split`: every channel is its own audio item (its own VAD, windows and words; the engine batches
  the windows of all channels and files together). Segments carry `channel`.
- `mix`: the down-mix, `sum(channels) / sqrt(channels)`: for stereo exactly what libswresample's
  default matrix gives (`ffmpeg -ac 1`, (L+R)/sqrt(2), measured), so a mixed stereo file reads as before.
- `auto`: `split` for two-channel audio whose channels carry different speech, else `mix`.

Mixing never cancels speech: when the mix is far quieter than the louder channel, that channel is
transcribed alone (`used: channel`) and the document gets a warning.

The decision is made once per file from its first minutes, decoded once: the router buffers at most
ANALYSIS_MAX_S of audio (300 s of stereo float32: 38 MB), or less once the channels together hold
ANALYSIS_SPEECH_S of speech, while the Silero VAD runs on every channel and on the mix (so the
chosen signals' speech probabilities are ready, nothing is decoded or scored twice). Then the
buffered blocks and the rest of the file flow to the chosen routes only.

The detector (two channels), on 32 ms frames (the VAD's):
- speech per channel: frames with VAD probability >= 0.5;
- dominance: a channel *dominates* a frame when it is speech there and its energy exceeds every
  other channel's by at least DOMINANCE_DB. Two channels of one recording (a mic pair in a room, a
  panned voice, a mono file copied to both sides, phase-inverted copies) differ by a few dB on the
  same frames, so neither dominates often; the two legs of a phone call recorded apart differ by
  the other leg's line noise or echo, 20-50 dB below, whenever one party speaks.
- split when each channel dominates at least MIN_DOMINANT_SHARE of the speech frames (either
  channel's) and at least MIN_DOMINANT_S seconds. Energy differences rather than VAD-mask overlap
  decide because Silero also fires on the faint echo of the other leg (crosstalk), which makes the
  masks overlap while the level difference stays large.
- cancellation: the mix's RMS over the analysed audio against the louder channel's. With the
  sqrt(N) gain, channels that are not anti-correlated mix to at least -3 dB of the louder one (one
  silent channel); uncorrelated equal channels give 0 dB, identical ones +3 dB. CANCEL_DB (-12 dB)
  is 9 dB below that floor: for two equal channels it means a correlation below -0.94, i.e. one
  side is (nearly) the other inverted. Quieter than SILENT_DBFS everywhere: no verdict (silence).

Crosstalk in split files: a call leg often carries a faint echo of the other party, which the VAD
and the model would transcribe a second time on the wrong channel. Echo and crosstalk of telephone
legs sit 20-50 dB down, while two people talking over each other stay within a few dB to ~15 dB of
each other, so BLEED_DB (20 dB) separates them. Twice: a channel's 32 ms frames BLEED_DB or more
below the loudest channel get VAD probability 0 (fewer echo windows reach the model), and a word
whose channel is BLEED_DB or more below another channel over the word's whole span is dropped
(`drop_crosstalk`: frame gating alone leaves word edges, where the VAD's memory still says speech).
The router keeps the per-frame energies of a split file for that (2 channels x 4 bytes per 32 ms:
22 MB for 24 h).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pipeline.types import channel_label

from gpu_job.engine.vad import FRAME_SAMPLES, SAMPLE_RATE

ANALYSIS_MAX_S = 300.0
ANALYSIS_SPEECH_S = 30.0
SPEECH_PROB = 0.5
DOMINANCE_DB = 15.0
MIN_DOMINANT_SHARE = 0.05
MIN_DOMINANT_S = 1.0
CANCEL_DB = -12.0
BLEED_DB = 20.0
SILENT_DBFS = -70.0
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE

Route = int | None  # a channel index, or None for the mix
Detector = Any  # gpu_job.engine.vad detector: push(samples, final=False) -> probabilities of whole frames


def mix_down(block: np.ndarray) -> np.ndarray:
    """(samples, channels) -> samples: sum / sqrt(channels) (FFmpeg's stereo down-mix gain)."""
    if block.ndim == 1:
        return block
    # Channel by channel, not `block.sum(axis=1)`: numpy's reduction over a short inner axis costs more
    # than decoding the block (measured: benchmarks/cpu_stage.py). Up to 7 channels numpy sums in this
    # same order, so the result is bit for bit the same.
    total = block[:, 0].astype(np.float32)  # a copy
    for c in range(1, block.shape[1]):
        total += block[:, c]
    total /= np.float32(math.sqrt(block.shape[1]))
    return total


def channel_name(channel: int, channels: int) -> str:
    """For people: "channel 1 (left)" is channel 0 of a stereo track (pipeline.contracts.channel_label)."""
    side = {0: " (left)", 1: " (right)"}.get(channel, "") if channels == 2 else ""
    return f"{channel_label(channel).lower()}{side}"


def _db(power: float) -> float:
    return 10.0 * math.log10(power + 1e-12)


@dataclass
class Decision:
    requested: str
    used: str  # mix | split | channel
    reason: str
    channel: int | None = None
    channels: tuple[int, ...] | None = None
    measurements: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def routes(self) -> list[Route]:
        if self.used == "split":
            return list(self.channels or ())
        if self.used == "channel":
            return [self.channel]
        return [None]

    def segment_channel(self, route: Route) -> int | None:
        """What a segment of this route says in `channel`: only split transcripts label channels."""
        return route if self.used == "split" else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"requested": self.requested, "used": self.used, "reason": self.reason}
        if self.channel is not None:
            out["channel"] = self.channel
        if self.channels is not None:
            out["channels"] = list(self.channels)
        if self.measurements is not None:
            out["measurements"] = self.measurements
        return out


def measure(audio: np.ndarray, mix: np.ndarray, probs: list[np.ndarray]) -> dict[str, Any]:
    """The detector's measurements on (samples, channels) `audio`, its mix and each channel's VAD."""
    channels = audio.shape[1]
    frames = min(audio.shape[0] // FRAME_SAMPLES, *(p.shape[0] for p in probs))
    grid = audio[: frames * FRAME_SAMPLES].reshape(frames, FRAME_SAMPLES, channels).astype(np.float64)
    energy_db = 10.0 * np.log10((grid**2).mean(axis=1) + 1e-12)  # (frames, channels)
    speech = np.stack([p[:frames] >= SPEECH_PROB for p in probs], axis=1)  # (frames, channels)
    active = speech.any(axis=1)
    n_active = int(active.sum())
    dominant = []
    for c in range(channels):
        others = np.delete(energy_db, c, axis=1).max(axis=1) if channels > 1 else energy_db[:, c]
        dominant.append(int((speech[:, c] & (energy_db[:, c] - others >= DOMINANCE_DB)).sum()))
    rms = [_db(float(np.mean(audio[:, c].astype(np.float64) ** 2))) for c in range(channels)]
    mix_db = _db(float(np.mean(mix.astype(np.float64) ** 2)))
    out: dict[str, Any] = {
        "analysed_s": round(audio.shape[0] / SAMPLE_RATE, 3),
        "speech_s": [round(int(speech[:, c].sum()) * FRAME_S, 3) for c in range(channels)],
        "dominant_share": [round(d / n_active, 3) if n_active else 0.0 for d in dominant],
        "dominant_s": [round(d * FRAME_S, 3) for d in dominant],
        "rms_dbfs": [round(r, 1) for r in rms],
        "mix_rms_dbfs": round(mix_db, 1),
        "mix_vs_louder_db": round(mix_db - max(rms), 1),
    }
    if channels == 2:
        both = int((speech[:, 0] & speech[:, 1]).sum())
        least = min(int(speech[:, 0].sum()), int(speech[:, 1].sum()))
        out["speech_overlap"] = round(both / least, 3) if least else 0.0
    return out


def decide(
    requested: str,
    channels: int,
    m: dict[str, Any] | None,
    split_supported: bool = True,
    mode: str = "batched",
) -> Decision:
    """The decision for a track of `channels` channels; `m` is `measure`'s output (None: not measured)."""
    if channels <= 1:
        return Decision(requested, "mix", "mono audio: one channel")
    warnings: list[str] = []
    if requested == "split":
        if split_supported:
            return Decision(
                requested,
                "split",
                "requested: each channel transcribed on its own",
                channels=tuple(range(channels)),
                measurements=m,
            )
        warnings.append(
            f"channel-mode split is not available in {mode} mode (one stream at a time): "
            "the channels were mixed instead"
        )
    split = None
    if requested == "auto" and m is not None:
        split, why = _different_speech(channels, m)
        if split and not split_supported:
            warnings.append(
                f"the channels carry different speech, but {mode} mode transcribes one stream: "
                "they were mixed, so the transcript does not say which channel spoke"
            )
            split = False
        if split:
            return Decision(requested, "split", why, channels=tuple(range(channels)), measurements=m)
        reason = why
    elif requested == "auto":
        reason = "auto: not measured"
    else:
        reason = "requested: the channels mixed" if requested == "mix" else "split unavailable: mixed"
    if m is not None and max(m["rms_dbfs"]) > SILENT_DBFS and m["mix_vs_louder_db"] < CANCEL_DB:
        louder = int(np.argmax(m["rms_dbfs"]))
        name = channel_name(louder, channels)
        text = (
            f"the channels cancel when mixed (the mix is {-m['mix_vs_louder_db']:.1f} dB quieter than "
            f"{name}; one channel is probably phase-inverted): {name} was transcribed alone"
        )
        warnings.append(text)
        return Decision(requested, "channel", text, channel=louder, measurements=m, warnings=warnings)
    return Decision(requested, "mix", reason, measurements=m, warnings=warnings)


def _different_speech(channels: int, m: dict[str, Any]) -> tuple[bool, str]:
    if channels != 2:
        return False, f"auto splits two-channel audio only; {channels} channels were mixed"
    speaking = [c for c in range(2) if m["speech_s"][c] >= MIN_DOMINANT_S]
    if not speaking:
        return False, "auto: not enough speech to tell the channels apart; mixed"
    if len(speaking) == 1:
        return False, f"auto: only {channel_name(speaking[0], 2)} carries speech; mixed"
    share, seconds = m["dominant_share"], m["dominant_s"]
    if all(share[c] >= MIN_DOMINANT_SHARE and seconds[c] >= MIN_DOMINANT_S for c in range(2)):
        return True, (
            f"auto: the channels carry different speech (each is alone, {DOMINANCE_DB:g} dB above "
            f"the other, in {share[0]:.0%} and {share[1]:.0%} of the speech frames); split"
        )
    return False, (
        f"auto: both channels carry the same speech (alone in only {share[0]:.0%} and "
        f"{share[1]:.0%} of the speech frames); mixed"
    )


class _BleedGate:
    """Per 32 ms frame (the VAD's framing, partial frames carried between blocks like the detector's):
    which channels are BLEED_DB or more below the loudest one."""

    def __init__(self, channels: int):
        self._tail = np.zeros((0, channels), np.float32)
        self.power: list[np.ndarray] = []  # (frames, channels) mean power per frame, in stream order

    def push(self, block: np.ndarray, final: bool = False) -> np.ndarray:
        audio = np.concatenate([self._tail, block]) if block.shape[0] else self._tail
        whole = audio.shape[0] // FRAME_SAMPLES
        if final and audio.shape[0] % FRAME_SAMPLES:
            whole += 1
            audio = np.pad(audio, ((0, whole * FRAME_SAMPLES - audio.shape[0]), (0, 0)))
        self._tail = audio[whole * FRAME_SAMPLES :]
        grid = audio[: whole * FRAME_SAMPLES].reshape(whole, FRAME_SAMPLES, -1).astype(np.float64)
        power = (grid**2).mean(axis=1)
        self.power.append(power.astype(np.float32))
        energy = 10.0 * np.log10(power + 1e-12)
        return energy <= energy.max(axis=1, keepdims=True) - BLEED_DB


class ChannelRouter:
    """Feed decoded blocks ((samples, channels), or 1-D for mono) with `push`, then `finish`; each
    returns `(route, samples, probs)` for the chosen routes, in stream order per route. `probs` are
    that route's VAD probabilities (None when `need_probs` is False: the decision still uses a VAD).

    `decision` is set once the router has decided (at the latest in `finish`)."""

    def __init__(
        self,
        requested: str,
        make_detector: Callable[[], Detector],
        *,
        split_supported: bool = True,
        mode: str = "batched",
        need_probs: bool = True,
    ):
        self.requested = requested
        self.make_detector = make_detector
        self.split_supported = split_supported
        self.mode = mode
        self.need_probs = need_probs
        self.decision: Decision | None = None
        self._detectors: dict[Route, Detector] = {}
        self._held: list[tuple[np.ndarray, np.ndarray, dict[Route, np.ndarray]]] = []
        self._held_samples = 0
        self._speech_frames = 0
        self._channels: int | None = None
        self._gate: _BleedGate | None = None

    def _start(self, block: np.ndarray) -> None:
        self._channels = 1 if block.ndim == 1 else block.shape[1]
        n = self._channels
        if n == 1 or (self.requested == "split" and self.split_supported):
            self.decision = decide(self.requested, n, None, self.split_supported, self.mode)
            if self.need_probs:
                self._detectors = {r: self.make_detector() for r in self.decision.routes}
            self._start_gate()
        else:  # measure first: every channel and the mix get a detector
            self._detectors = {r: self.make_detector() for r in [*range(n), None]}

    @staticmethod
    def _signal(block: np.ndarray, mix: np.ndarray | None, route: Route) -> np.ndarray:
        if block.ndim == 1:
            return block
        if route is None:
            return mix if mix is not None else mix_down(block)
        return np.ascontiguousarray(block[:, route])

    def frame_power(self) -> np.ndarray | None:
        """Split files: (frames, channels) mean power per 32 ms frame of the whole stream (for
        `drop_crosstalk`); None otherwise."""
        if self._gate is None or not self._gate.power:
            return None
        return np.concatenate(self._gate.power)

    def _gated(self, block: np.ndarray, probs: dict[Route, np.ndarray] | None, final: bool = False) -> None:
        """Split files: zero each channel's VAD where it only carries another channel's echo (in place)."""
        if self._gate is None:
            return
        quiet = self._gate.push(block, final=final)
        for route, p in (probs or {}).items():
            if route is not None:
                n = min(p.shape[0], quiet.shape[0])
                p[:n][quiet[:n, route]] = 0.0

    def _emit(self, block: np.ndarray, mix: np.ndarray | None) -> list[Any]:
        assert self.decision is not None
        routes = self.decision.routes
        signals = {r: self._signal(block, mix, r) for r in routes}
        if not self.need_probs:
            self._gated(block, None)
            return [(r, signals[r], None) for r in routes]
        probs = {r: self._detectors[r].push(signals[r]) for r in routes}
        self._gated(block, probs)
        return [(r, signals[r], probs[r]) for r in routes]

    def push(self, block: np.ndarray) -> list[Any]:
        if self._channels is None:
            self._start(block)
        if self.decision is not None:
            return self._emit(block, None)
        mix = mix_down(block)
        probs = {r: d.push(self._signal(block, mix, r)) for r, d in self._detectors.items()}
        self._held.append((block, mix, probs))
        self._held_samples += block.shape[0]
        channel_probs = [probs[c] for c in range(self._channels or 0)]
        frames = min(p.shape[0] for p in channel_probs)
        speech = np.stack([p[:frames] for p in channel_probs]) >= SPEECH_PROB
        self._speech_frames += int(speech.any(axis=0).sum())
        enough_speech = self._speech_frames * FRAME_S >= ANALYSIS_SPEECH_S
        if enough_speech or self._held_samples >= ANALYSIS_MAX_S * SAMPLE_RATE:
            return self._decide()
        return []

    def _decide(self) -> list[Any]:
        assert self._channels is not None
        held, self._held = self._held, []
        audio = np.concatenate([b for b, _, _ in held])
        mix = np.concatenate([m for _, m, _ in held])
        probs = [np.concatenate([p[c] for _, _, p in held]) for c in range(self._channels)]
        self.decision = decide(
            self.requested, self._channels, measure(audio, mix, probs), self.split_supported, self.mode
        )
        routes = self.decision.routes
        self._detectors = {r: d for r, d in self._detectors.items() if r in routes and self.need_probs}
        self._start_gate()
        out = []
        for block, block_mix, block_probs in held:
            self._gated(block, block_probs if self.need_probs else None)
            out += [
                (r, self._signal(block, block_mix, r), block_probs[r] if self.need_probs else None)
                for r in routes
            ]
        return out

    def _start_gate(self) -> None:
        assert self.decision is not None and self._channels is not None
        if self.decision.used == "split":
            self._gate = _BleedGate(self._channels)

    def finish(self) -> list[Any]:
        """Decide (if the file was shorter than the analysis), hand out what is held, and the routes' last
        VAD frames (zero-padded partial frame: `(route, empty, probs)`)."""
        if self._channels is None:  # nothing decoded: the decoder raises for that; a decision anyway
            self._channels = 1
            self.decision = decide(self.requested, 1, None)
            return []
        out = self._decide() if self.decision is None else []
        assert self.decision is not None
        if not self.need_probs:
            self._gated(np.zeros((0, self._channels), np.float32), None, final=True)
        else:
            nothing = np.zeros(0, np.float32)
            probs = {r: self._detectors[r].push(nothing, final=True) for r in self.decision.routes}
            self._gated(np.zeros((0, self._channels), np.float32), probs, final=True)
            out += [(r, nothing, probs[r]) for r in self.decision.routes]
        return out


def drop_crosstalk(
    channel_words: dict[Route, list[Any]], power: np.ndarray | None
) -> tuple[dict[Route, list[Any]], int]:
    """Split files: drop each word whose channel is BLEED_DB or more below another channel over the
    word's span (the echo of the other party); returns the kept words and how many were dropped.
    Words are gpu_job.engine.tokens.DecodedWord (start/end in seconds); `power` is
    `ChannelRouter.frame_power()`."""
    if power is None or power.shape[0] == 0:
        return channel_words, 0
    kept: dict[Route, list[Any]] = {}
    dropped = 0
    last = power.shape[0]
    for route, words in channel_words.items():
        if route is None:
            kept[route] = words
            continue
        out = []
        for w in words:
            first = min(int(w.start / FRAME_S), last - 1)
            end = max(min(math.ceil(w.end / FRAME_S), last), first + 1)
            span = power[first:end].mean(axis=0)
            own, loudest = _db(float(span[route])), _db(float(span.max()))
            if own <= loudest - BLEED_DB:
                dropped += 1
            else:
                out.append(w)
        kept[route] = out
    return kept, dropped
