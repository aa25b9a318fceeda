"""FFmpeg may read the object's own bytes and nothing else; and which audio track is the one.

Why an allow-list: FFmpeg detects ~370 input formats, and some are not media but references to
other resources: concat lists and HLS playlists open the files and URLs they name (``/etc/...``,
``http://``, ``tee:``/``subfile:`` URLs), SDP opens RTP sockets, image2 opens numbered files next
to the input. Reading through our own file object (PyAV's custom AVIOContext) does not stop that:
such a demuxer opens its references through ``AVFormatContext.io_open``, whose default opens any
protocol. Three locks, each sufficient for what it covers:

1. ``format_whitelist``: ``avformat_open_input`` refuses a detected demuxer that is not listed
   before its ``read_header`` runs (EINVAL), so none of the refused demuxer's code runs.
2. ``io_open``: a callable that refuses every URL, so no allowed demuxer opens a second resource
   either (e.g. MOV's external data references, off by default in FFmpeg).
3. ``protocol_whitelist`` empty: a code path that opens a protocol directly, by-passing
   ``io_open``, finds no protocol allowed.

A refused demuxer is ``UnsupportedInput``, not ``NotMedia``: FFmpeg did recognise a format, and we
refuse it by policy; the reason tells an operator (and the metrics) that someone uploaded a playlist
or manifest, not noise.

The Probe Lambda and gpu_job both open media through ``open_guarded`` and pick the track with
``transcribed_audio_stream``: one list, one rule. PyAV is passed in (or imported when called), so
importing ``contracts`` still needs pydantic alone.
"""

from __future__ import annotations

from typing import Any

from pipeline.outcomes import UnsupportedInput

# FFmpeg demuxer names. A demuxer with a combined name ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm")
# is allowed when one of its names is listed (FFmpeg's av_match_list). Each one reads a single byte
# stream; none of them is a playlist, a list of files, a protocol, a device or an image sequence.
ALLOWED_DEMUXERS: tuple[str, ...] = (
    # PCM containers: WAV also serves RF64/BW64 and WAV-wrapped G.711, GSM and ADPCM
    "wav",
    "w64",
    "aiff",
    "caf",
    "au",
    # lossless
    "flac",
    "wv",
    "tta",
    "ape",
    # compressed audio elementary streams
    "mp3",
    "aac",
    "loas",
    "ac3",
    "eac3",
    "dts",
    "truehd",
    "mlp",
    "amr",
    "amrnb",
    "amrwb",
    "gsm",
    "mpc",
    "mpc8",
    # audio/video containers
    "ogg",
    "matroska",
    "mov",
    "asf",
    "avi",
    "mpegts",
    "mpeg",
    "flv",
)
GUARD_OPTIONS = {"format_whitelist": ",".join(ALLOWED_DEMUXERS), "protocol_whitelist": ""}


class NestedOpenRefused(Exception):
    """A demuxer asked to open a second resource (a file or URL other than the object)."""


def refuse_nested_open(url: str, flags: int, options: dict[str, Any]) -> Any:
    """PyAV's ``io_open`` hook: every URL a demuxer wants besides the object itself is refused."""
    raise NestedOpenRefused(f"refused to open {url!r}: only the uploaded object is read")


def open_guarded(av: Any, file: Any, **kwargs: Any) -> Any:
    """``av.open(file, **kwargs)`` restricted to the allowed demuxers and to no protocol at all.

    Raises ``UnsupportedInput`` when FFmpeg recognised a format that is not allowed or a demuxer
    tried to open another resource; other ``av.FFmpegError``s propagate for the caller to type
    (corrupt vs not media).
    """
    try:
        return av.open(file, mode="r", container_options=GUARD_OPTIONS, io_open=refuse_nested_open, **kwargs)
    except NestedOpenRefused as exc:
        raise UnsupportedInput(str(exc)) from exc
    except av.error.ArgumentError as exc:
        # EINVAL from avformat_open_input with these fixed options: the whitelist check, which runs
        # before the demuxer reads its header. Allowed demuxers report bad bytes as INVALIDDATA/EOF.
        raise UnsupportedInput(
            "FFmpeg recognised a format outside the allowed media containers (playlists, file "
            f"lists, manifests, image sequences and network descriptions are refused): {exc}"
        ) from exc


def transcribed_audio_stream(streams: Any) -> Any | None:
    """The audio stream that is transcribed: the first marked default, else the first; None if none."""
    import av

    audio = [s for s in streams if s.type == "audio"]
    default = next((s for s in audio if s.disposition & av.stream.Disposition.default), None)
    return default or (audio[0] if audio else None)
