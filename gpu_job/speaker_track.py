"""One upload's diarization, fed the same 16 kHz samples the ASR path decoded (docs/SPEAKERS.md).

Why a track of its own: the engine's CPU side decodes, routes and cuts each file once, in blocks;
diarization must hear exactly those samples (no second download, no second decode) while ASR runs
on its windows. The track takes the one-signal route's blocks as they pass (``push``) and, once the
file is decoded (``finish``), says how speakers were determined and the turns to assign words to.

Which speakers a transcript gets follows the Speakers setting (pipeline.speakers):

- ``off``: none.
- channels transcribed apart (ChannelMode split): the channel is the speaker; the diarizer is not
  run (diarization within a channel is not offered: one party per channel is what split means).
- ``1``: every word is Speaker 1, without running the diarizer.
- ``auto``: diarize when the file holds at least SPEAKERS_AUTO_MIN_S of speech (one short utterance
  is one speaker, and the diarizer needs a few seconds to tell voices apart); ``2``-``4``: always,
  with at most that many speakers.

A diarizer that streams (``Diarizer.stream``, Sortformer) is fed block by block and holds bounded
state; one that does not (the tiny test diarizer) is given the whole signal at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pipeline.speakers import speakers_limit

from gpu_job.diarization import Diarizer, DiarizerStream, load_diarizer
from gpu_job.speakers import SpeakerTurn


@dataclass
class SpeakersOutcome:
    """What `finish` found: the transcript's `speakers` block and the turns (empty unless diarized)."""

    info: dict[str, Any]
    turns: list[SpeakerTurn] = field(default_factory=list)

    @property
    def used(self) -> str:
        return str(self.info["used"])


class _Buffered:
    """A non-streaming diarizer's stream: the signal is kept and diarized whole at the end."""

    def __init__(self, diarizer: Diarizer, max_speakers: int):
        self.diarizer, self.max_speakers = diarizer, max_speakers
        self.blocks: list[np.ndarray] = []

    def push(self, samples: np.ndarray) -> None:
        self.blocks.append(np.asarray(samples, dtype=np.float32))

    def finish(self) -> list[SpeakerTurn]:
        signal = np.concatenate(self.blocks) if self.blocks else np.zeros(0, np.float32)
        self.blocks = []
        return self.diarizer.diarize(signal, self.max_speakers)


class SpeakerTrack:
    """Per upload: `push` each block of the one transcribed signal, then `finish(...)` once."""

    def __init__(
        self, setting: str, auto_min_s: float, diarizer: Diarizer | None = None, device: Any = "cpu"
    ):
        self.setting = setting
        self.device = device
        self.auto_min_s = auto_min_s
        self.limit = speakers_limit(setting)
        self._diarizer = diarizer
        self._stream: DiarizerStream | None = None
        self.seconds = 0.0  # audio pushed

    @property
    def wanted(self) -> bool:
        """Whether samples are needed at all (not for off or a fixed single speaker)."""
        return self.limit is not None and self.limit > 1

    def diarizer(self) -> Diarizer:
        if self._diarizer is None:
            self._diarizer = load_diarizer(device=self.device)
        return self._diarizer

    def push(self, samples: np.ndarray) -> None:
        if not self.wanted or samples.shape[0] == 0:
            return
        if self._stream is None:
            diarizer = self.diarizer()
            assert self.limit is not None
            opener = getattr(diarizer, "stream", None)
            self._stream = opener(self.limit) if opener is not None else _Buffered(diarizer, self.limit)
        self._stream.push(samples)
        self.seconds += samples.shape[0] / 16_000

    def finish(self, channels_used: str | None, speech_s: float, duration_s: float) -> SpeakersOutcome:
        """`channels_used`: the channel decision's `used` (None: one-channel audio); `speech_s`: the
        speech the VAD found (None-safe: the engine's measure, or the duration where there is none)."""
        stream, self._stream = self._stream, None
        requested = self.setting
        if self.limit is None:
            return SpeakersOutcome(
                {"requested": requested, "used": "off", "count": 0, "reason": "Speakers off"}
            )
        if channels_used == "split":
            return SpeakersOutcome(
                {
                    "requested": requested,
                    "used": "channel",
                    "count": 0,  # the document's count is taken from the words
                    "reason": "the channels were transcribed apart: each channel is a speaker",
                }
            )
        if self.limit == 1:
            whole = [SpeakerTurn(0.0, max(duration_s, 0.0), 0)]
            return SpeakersOutcome(
                {
                    "requested": requested,
                    "used": "diarization",
                    "count": 1,
                    "reason": "Speakers 1: one speaker",
                },
                whole,
            )
        if requested == "auto" and speech_s < self.auto_min_s:
            return SpeakersOutcome(
                {
                    "requested": requested,
                    "used": "off",
                    "count": 0,
                    "reason": f"auto: {speech_s:.1f} s of speech is under SPEAKERS_AUTO_MIN_S "
                    f"({self.auto_min_s:g} s)",
                }
            )
        turns = stream.finish() if stream is not None else []
        return SpeakersOutcome(
            {
                "requested": requested,
                "used": "diarization",
                "count": len({t.speaker for t in turns}),
                "model": self.diarizer().name,
            },
            turns,
        )
