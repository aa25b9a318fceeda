"""The fallback: PyAV (the FFmpeg libraries) over the same cached reader.

Used for every container without a header parser (Matroska/WebM, MPEG-TS, video containers mutagen
does not know, odd files) and whenever a header parser could not decide. FFmpeg is first allowed to
read almost no packets: the container header usually says all we need. The result uses FFmpeg's
codec names, which is what gpu_job will decode with, and describes the same audio track gpu_job
will decode (marked default, else the first). Only allowed demuxers run, and FFmpeg may open
nothing but this reader (``pipeline.media``). A missing length, or one the object cannot
hold, becomes a flagged upper bound (``probe_audio.length``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pipeline.media import open_guarded, transcribed_audio_stream
from pipeline.outcomes import CorruptMedia, NoAudioStream, NotMedia

from probe_audio.finding import ProbeFinding, average_bitrate
from probe_audio.length import BOUND_SLACK, constant_bitrate, size_bound_s
from probe_audio.parsers.common import read_at
from probe_audio.parsers.matroska_tail import declares_duration, tail_duration_s
from probe_audio.parsers.mp4 import ftyp_brand
from probe_audio.s3_reader import ReadBudgetExceeded

# PyAV's I/O buffer: ffmpeg asks the file object for this much at a time. Small, because every byte
# it asks for beyond what the demuxer needs is a byte we may have to fetch.
PYAV_BUFFER_SIZE = 4096
# How much ffmpeg may read to identify streams. FFmpeg's defaults (5 MB / 5 s) read seconds of video
# and audio; container headers (Matroska tracks, MP4 sample descriptions) usually already say all we
# need, so we first let it read almost no packets and only retry with more when a field is missing.
PYAV_PASSES: tuple[dict[str, str], ...] = (
    {"probesize": "32", "analyzeduration": "1"},
    {"probesize": "1048576", "analyzeduration": "2000000"},
)


def probe_with_ffmpeg(reader: Any, size: int, kind: str | None) -> ProbeFinding:
    """Probe with FFmpeg; ``kind`` is what sniffing said (None: no known magic bytes, so NotMedia)."""
    result, hints = _probe_once(reader, size, kind, PYAV_PASSES[0])
    if not (result.sample_rate and result.channels and result.duration_s):
        # Blocks read by the first pass are cached, so the second pass pays only for new bytes.
        result, hints = _probe_once(reader, size, kind, PYAV_PASSES[1])
    return _bounded(result, hints, reader)


@dataclass(frozen=True)
class _Hints:
    """What the length bound needs from the open container (read after it is closed: the tail read
    must not move the file position under FFmpeg's feet)."""

    codec_bit_rate: int
    tick_s: float | None  # the audio stream's time base, for Matroska's tail read


def _bounded(result: ProbeFinding, hints: _Hints, reader: Any) -> ProbeFinding:
    """A stated length the object can hold is kept; otherwise the upper bound, flagged (length.py)."""
    bound = size_bound_s(result.size, result.codec, hints.codec_bit_rate)
    stated = result.duration_s
    if hints.tick_s is not None and not declares_duration(reader):
        stated = 0.0  # FFmpeg's figure is its own guess from the bitrate: the file states none
    if stated and 0 < stated <= bound * BOUND_SLACK:
        return result
    if hints.tick_s is not None and constant_bitrate(result.codec, hints.codec_bit_rate) is None:
        # The size bound is the loose one (unknown bitrate): the last cluster says far better.
        bound = min(bound, tail_duration_s(reader, result.size, hints.tick_s) or bound)
    return replace(
        result,
        duration_s=round(bound, 6),
        duration_is_estimate=True,
        bitrate=result.bitrate or average_bitrate(result.size, bound),
    )


def _probe_once(
    reader: Any, size: int, kind: str | None, options: dict[str, str]
) -> tuple[ProbeFinding, _Hints]:
    import av

    reader.seek(0)
    try:
        container = open_guarded(av, reader, options=dict(options), buffer_size=PYAV_BUFFER_SIZE)
    except ReadBudgetExceeded as exc:
        raise CorruptMedia(f"FFmpeg could not read the {kind or 'unknown'} file within budget") from exc
    except (av.FFmpegError, ValueError, OSError, EOFError) as exc:
        if kind is None:
            raise NotMedia(f"not a media file FFmpeg can read: {exc}") from exc
        raise CorruptMedia(f"{kind} file FFmpeg cannot read: {exc}") from exc
    with container:
        stream = transcribed_audio_stream(container.streams)
        if stream is None:
            if kind is None and not container.streams:
                raise NotMedia("no streams found")
            if not container.streams:
                # A recognised container with no stream of any kind is cut off, not a silent video
                # (e.g. an MP4 truncated inside its moov): telling the user "no audio" would mislead.
                raise CorruptMedia(
                    f"{container.format.name} file holds no stream at all (truncated or corrupt)"
                )
            raise NoAudioStream(f"{container.format.name} file has no audio stream")
        ctx = stream.codec_context
        duration = None
        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        elif stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        bitrate = int(container.bit_rate or ctx.bit_rate or 0)
        matroska = container.format.name.startswith("matroska") and stream.time_base is not None
        hints = _Hints(
            codec_bit_rate=int(ctx.bit_rate or 0), tick_s=float(stream.time_base) if matroska else None
        )
        return ProbeFinding(
            duration_s=round(duration, 6) if duration else 0.0,
            container=container_name(container.format.name, kind, reader),
            codec=str(ctx.codec.canonical_name),  # "mp3", not the decoder's "mp3float": as ffprobe
            sample_rate=int(ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            bitrate=bitrate or average_bitrate(size, duration),
            size=size,
            has_audio=True,
            parser="pyav",
            track_index=int(stream.index),
        ), hints


def container_name(ffmpeg_name: str, kind: str | None, reader: Any) -> str:
    """The contract's container name for what FFmpeg opened, where one demuxer serves several."""
    if ffmpeg_name.startswith("matroska"):
        # The EBML header's DocType tells WebM from Matroska; FFmpeg uses one demuxer for both.
        return "webm" if b"webm" in read_at(reader, 0, 64) else "matroska"
    if ffmpeg_name.startswith("mov,"):
        return "mov" if kind == "mp4" and ftyp_brand(reader) == b"qt  " else "mp4"
    if kind == "rf64":
        return "wav"
    return ffmpeg_name.split(",")[0]
