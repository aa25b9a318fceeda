"""Specification: which speakers a transcript gets, and what the diarizer hears (gpu_job.speaker_track).

The Speakers setting decides (docs/SPEAKERS.md): off, the channels of a split file, one speaker, or the
diarizer, which hears exactly the samples decoded for ASR, in order, and is asked for at most the
setting's number of speakers. Auto leaves short speech undiarized. A diarizer that streams is fed
block by block; one that does not gets the whole signal once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from gpu_job.speaker_track import SpeakerTrack
from gpu_job.speakers import SpeakerTurn

TURNS = [SpeakerTurn(0.0, 1.0, 2), SpeakerTurn(1.0, 2.0, 0)]


@dataclass
class WholeFileDiarizer:
    """Records what it was asked (no `stream`: the track hands it the whole signal)."""

    name: str = "recording"
    calls: list[tuple[np.ndarray, int]] = field(default_factory=list)

    def diarize(self, samples: np.ndarray, max_speakers: int) -> list[SpeakerTurn]:
        self.calls.append((samples, max_speakers))
        return list(TURNS)


@dataclass
class StreamingDiarizer(WholeFileDiarizer):
    blocks: list[np.ndarray] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)

    def stream(self, max_speakers: int) -> StreamingDiarizer:
        self.opened.append(max_speakers)
        return self

    def push(self, samples: np.ndarray) -> None:
        self.blocks.append(samples)

    def finish(self) -> list[SpeakerTurn]:
        return list(TURNS)


def blocks(seconds: float = 9.0, size: int = 7000) -> list[np.ndarray]:
    signal = np.random.default_rng(1).standard_normal(int(seconds * 16000)).astype(np.float32)
    return [signal[i : i + size] for i in range(0, signal.size, size)]


def feed(track: SpeakerTrack, pieces: list[np.ndarray]) -> None:
    for piece in pieces:
        track.push(piece)


def test_a_count_diarizes_the_decoded_samples_in_order_with_that_limit() -> None:
    # Given Speakers 3 and a whole-file diarizer
    diarizer = WholeFileDiarizer()
    track = SpeakerTrack("3", auto_min_s=5.0, diarizer=diarizer)
    pieces = blocks()
    # When the decoded blocks pass and the file ends
    feed(track, pieces)
    found = track.finish(None, speech_s=1.0, duration_s=9.0)  # a count diarizes whatever the speech
    # Then the diarizer heard every sample once, in order, asked for at most 3 speakers
    ((heard, limit),) = diarizer.calls
    np.testing.assert_array_equal(heard, np.concatenate(pieces))
    assert limit == 3
    assert found.used == "diarization" and found.turns == TURNS
    assert found.info["model"] == "recording" and found.info["requested"] == "3"


def test_a_streaming_diarizer_is_fed_block_by_block() -> None:
    diarizer = StreamingDiarizer()
    track = SpeakerTrack("auto", auto_min_s=5.0, diarizer=diarizer)
    pieces = blocks()
    feed(track, pieces)
    found = track.finish(None, speech_s=8.0, duration_s=9.0)
    assert diarizer.opened == [4]  # auto: the model's four speaker slots
    assert len(diarizer.blocks) == len(pieces) and not diarizer.calls
    assert found.turns == TURNS


@pytest.mark.parametrize(
    ("setting", "channels", "speech_s", "used"),
    [
        ("off", None, 60.0, "off"),
        ("auto", "split", 60.0, "channel"),  # each channel is its speaker
        ("2", "split", 60.0, "channel"),
        ("auto", None, 4.9, "off"),  # under SPEAKERS_AUTO_MIN_S: one short utterance is one speaker
    ],
)
def test_no_diarizer_runs_when_the_setting_or_the_channels_decide(
    setting: str, channels: str | None, speech_s: float, used: str
) -> None:
    diarizer = WholeFileDiarizer()
    track = SpeakerTrack(setting, auto_min_s=5.0, diarizer=diarizer)
    feed(track, blocks())
    found = track.finish(channels, speech_s=speech_s, duration_s=9.0)
    assert found.used == used and found.turns == []
    assert not diarizer.calls
    assert found.info.get("reason")  # the transcript says why


def test_speakers_1_is_one_speaker_over_the_file_without_a_diarizer() -> None:
    diarizer = WholeFileDiarizer()
    track = SpeakerTrack("1", auto_min_s=5.0, diarizer=diarizer)
    assert not track.wanted
    feed(track, blocks())
    found = track.finish(None, speech_s=8.0, duration_s=9.0)
    assert found.turns == [SpeakerTurn(0.0, 9.0, 0)] and not diarizer.calls


def test_auto_with_enough_speech_diarizes() -> None:
    diarizer = WholeFileDiarizer()
    track = SpeakerTrack("auto", auto_min_s=5.0, diarizer=diarizer)
    feed(track, blocks())
    assert track.finish("mix", speech_s=5.0, duration_s=9.0).used == "diarization"
    assert len(diarizer.calls) == 1
