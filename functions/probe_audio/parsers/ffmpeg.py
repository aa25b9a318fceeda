"""The fallback: PyAV (the FFmpeg libraries) over the same cached reader.

Used for every container without a header parser (Matroska/WebM, MPEG-TS, video containers mutagen
does not know, odd files) and whenever a header parser could not decide. FFmpeg is first allowed to
read almost no packets: the container header usually says all we need. The result uses FFmpeg's
codec names, which is what gpu_job will decode with.
"""

from __future__ import annotations

from typing import Any

from common.errors import CorruptMedia, NoAudioStream, NotMedia

from probe_audio.finding import ProbeFinding, average_bitrate
from probe_audio.parsers.common import read_at
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
    result = _probe_once(reader, size, kind, PYAV_PASSES[0])
    if not (result.sample_rate and result.channels and result.duration_s):
        # Blocks read by the first pass are cached, so the second pass pays only for new bytes.
        result = _probe_once(reader, size, kind, PYAV_PASSES[1])
    return result


def _probe_once(reader: Any, size: int, kind: str | None, options: dict[str, str]) -> ProbeFinding:
    import av

    reader.seek(0)
    try:
        container = av.open(reader, mode="r", options=dict(options), buffer_size=PYAV_BUFFER_SIZE)
    except ReadBudgetExceeded as exc:
        raise CorruptMedia(f"FFmpeg could not read the {kind or 'unknown'} file within budget") from exc
    except (av.FFmpegError, ValueError, OSError, EOFError) as exc:
        if kind is None:
            raise NotMedia(f"not a media file FFmpeg can read: {exc}") from exc
        raise CorruptMedia(f"{kind} file FFmpeg cannot read: {exc}") from exc
    with container:
        audio = [s for s in container.streams if s.type == "audio"]
        if not audio:
            if kind is None and not container.streams:
                raise NotMedia("no streams found")
            raise NoAudioStream(f"{container.format.name} file has no audio stream")
        stream = audio[0]
        ctx = stream.codec_context
        duration = None
        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        elif stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        bitrate = int(container.bit_rate or ctx.bit_rate or 0)
        return ProbeFinding(
            duration_s=round(duration, 6) if duration else 0.0,
            container=container_name(container.format.name, kind, reader),
            codec=str(ctx.name),
            sample_rate=int(ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            bitrate=bitrate or average_bitrate(size, duration),
            size=size,
            has_audio=True,
            parser="pyav",
        )


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
