"""The input's audio tracks, and opening it through the shared FFmpeg guard (pipeline.media).

The allow-list of demuxers, the refusal of every nested open and of every protocol, and the rule
for which audio track is transcribed are `pipeline.media`'s, the same code the Probe Lambda runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av
from pipeline.media import open_guarded


def open_input(stream: Any, **kwargs: Any) -> av.container.InputContainer:
    """``av.open(stream)`` behind the guard: only the allowed demuxers, no protocol, no second resource."""
    return open_guarded(av, stream, **kwargs)


@dataclass(frozen=True)
class AudioTrack:
    """One audio stream of the input; ``index`` is the container stream index (ffprobe's ``index``)."""

    index: int
    codec: str | None
    channels: int | None
    sample_rate: int | None
    language: str | None
    default: bool


def audio_tracks(container: av.container.InputContainer) -> list[AudioTrack]:
    """Every audio stream, in container order."""
    return [
        AudioTrack(
            index=int(s.index),
            codec=s.codec_context.name if s.codec_context is not None else None,
            channels=s.codec_context.channels or None if s.codec_context is not None else None,
            sample_rate=s.codec_context.sample_rate or None if s.codec_context is not None else None,
            language=s.metadata.get("language"),
            default=bool(s.disposition & av.stream.Disposition.default),
        )
        for s in container.streams.audio
    ]
