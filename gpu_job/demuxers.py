"""FFmpeg may read the input's own bytes and nothing else; and which audio track is transcribed.

Some of FFmpeg's ~370 input formats are references, not media: concat lists and HLS playlists
open the files and URLs they name, SDP opens RTP sockets, image2 opens numbered files next to the
input. Reading through a Python file object does not stop that (those demuxers open their
references through ``AVFormatContext.io_open``, whose default opens any protocol), so the container
is opened with three locks: ``format_whitelist`` (a detected demuxer off the list is refused before
its ``read_header`` runs), an ``io_open`` that refuses every URL, and an empty
``protocol_whitelist``. A refused format is ``UnsupportedInput``: FFmpeg recognised it, we refuse it
by policy (``NotMedia`` stays "nothing can read these bytes").

The Probe Lambda applies the same list and the same track rule (``functions/probe_audio/demuxers.py``;
this image does not ship ``functions/``, so tests/gpu_job/test_demuxers.py holds the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av
from contracts.errors import UnsupportedInput

# FFmpeg demuxer names; a combined name ("mov,mp4,m4a,3gp,3g2,mj2") is allowed when one of its
# names is listed. Each reads a single byte stream: no playlists, file lists, protocols, devices
# or image sequences.
ALLOWED_DEMUXERS: tuple[str, ...] = (
    # PCM containers: WAV also serves RF64/BW64 and WAV-wrapped G.711, GSM and ADPCM
    "wav", "w64", "aiff", "caf", "au",
    # lossless
    "flac", "wv", "tta", "ape",
    # compressed audio elementary streams
    "mp3", "aac", "loas", "ac3", "eac3", "dts", "truehd", "mlp", "amr", "amrnb", "amrwb", "gsm",
    "mpc", "mpc8",
    # audio/video containers
    "ogg", "matroska", "mov", "asf", "avi", "mpegts", "mpeg", "flv",
)  # fmt: skip
GUARD_OPTIONS = {"format_whitelist": ",".join(ALLOWED_DEMUXERS), "protocol_whitelist": ""}


class NestedOpenRefused(Exception):
    """A demuxer asked to open a second resource (a file or URL other than the input)."""


def _refuse(url: str, flags: int, options: dict[str, Any]) -> Any:
    raise NestedOpenRefused(f"refused to open {url!r}: only the input object is read")


def open_input(stream: Any, **kwargs: Any) -> av.container.InputContainer:
    """``av.open(stream)`` restricted to the allowed demuxers and to no protocol at all.

    ``UnsupportedInput`` when FFmpeg recognised a format that is not allowed (EINVAL from the
    whitelist check, which runs before any demuxer reads a header) or a demuxer tried to open
    another resource; other ``av.FFmpegError``s propagate for the caller to type.
    """
    try:
        return av.open(stream, mode="r", container_options=GUARD_OPTIONS, io_open=_refuse, **kwargs)
    except NestedOpenRefused as exc:
        raise UnsupportedInput(str(exc)) from exc
    except av.error.ArgumentError as exc:
        raise UnsupportedInput(
            "FFmpeg recognised a format outside the allowed media containers (playlists, file "
            f"lists, manifests, image sequences and network descriptions are refused): {exc}"
        ) from exc


@dataclass(frozen=True)
class AudioTrack:
    """One audio stream of the input; ``index`` is the container stream index (ffprobe's ``index``)."""

    index: int
    codec: str | None
    channels: int | None
    sample_rate: int | None
    language: str | None
    default: bool


def transcribed_audio_stream(container: av.container.InputContainer) -> Any | None:
    """The audio stream transcribed: the first marked default, else the first; None without audio."""
    audio = list(container.streams.audio)
    default = next((s for s in audio if s.disposition & av.stream.Disposition.default), None)
    return default or (audio[0] if audio else None)


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
