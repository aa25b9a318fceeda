"""Decide what an audio/video object is and how long it plays, reading as few bytes as possible.

The content decides, never the key's extension: the magic bytes of the first block (``sniff``)
pick a header parser from ``parsers/``, which reads only stream info (never tags: a cover picture
can be megabytes) and is exact where the container states a length. Whatever no header parser
answers goes to FFmpeg over the same cached reader (``parsers/ffmpeg.py``), restricted to real
media demuxers and to no protocol (``pipeline.media``). A length no header states, or one the object's
size cannot hold, becomes a flagged upper bound (``length.py``). Per-family reliance is in each
parser module's docstring.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from pipeline.outcomes import NoAudioStream, ZeroByteObject

from probe_audio.finding import ProbeFinding
from probe_audio.length import checked
from probe_audio.parsers.common import PARSE_ERRORS, Unrecognised
from probe_audio.parsers.ffmpeg import probe_with_ffmpeg
from probe_audio.parsers.flac import parse_flac
from probe_audio.parsers.mp4 import parse_mp4
from probe_audio.parsers.mpeg import parse_aac, parse_mp3
from probe_audio.parsers.ogg import parse_ogg
from probe_audio.parsers.riff import parse_aiff, parse_rf64, parse_wav
from probe_audio.s3_reader import ReadBudgetExceeded
from probe_audio.sniff import sniff

log = logging.getLogger(__name__)

# Sniffed kinds with a header parser; the others (Matroska/WebM, unknown) go straight to FFmpeg.
HEADER_PARSERS: dict[str, Callable[[Any, int], ProbeFinding]] = {
    "wav": parse_wav,
    "rf64": parse_rf64,
    "aiff": parse_aiff,
    "flac": parse_flac,
    "mp3": parse_mp3,
    "aac": parse_aac,
    "mp4": parse_mp4,
    "ogg": parse_ogg,
}


def probe(reader: Any, max_duration_s: float) -> ProbeFinding:
    """Probe the object behind ``reader`` (an ``S3RangeReader`` or any seekable binary file).

    Raises the typed ``BadInputError`` subclasses for inputs that can never be transcribed.
    """
    size = reader.seek(0, io.SEEK_END)
    reader.seek(0)
    if size == 0:
        raise ZeroByteObject("object is empty")
    head = reader.read(64)
    reader.seek(0)
    kind = sniff(head)

    result: ProbeFinding | None = None
    try:
        result = _parse_header(kind, reader, size)
    except (Unrecognised, ReadBudgetExceeded) as exc:
        log.info("mutagen could not probe (%s: %s); trying FFmpeg", kind, exc)
    if result is None:
        result = probe_with_ffmpeg(reader, size, kind)

    return checked(result, max_duration_s)


def _parse_header(kind: str | None, reader: Any, size: int) -> ProbeFinding:
    """The kind's header parser's answer; Unrecognised whenever FFmpeg should decide instead."""
    import mutagen  # imported here so that cold starts that only need FFmpeg do not pay for it

    parser = HEADER_PARSERS.get(kind or "")
    if parser is None:
        raise Unrecognised(f"no mutagen path for {kind}")
    try:
        result = parser(reader, size)
    except NoAudioStream:
        raise
    except (mutagen.MutagenError, *PARSE_ERRORS) as exc:  # type: ignore[misc]  # mypy: a starred tuple
        raise Unrecognised(f"{type(exc).__name__}: {exc}") from exc
    if not result.duration_s > 0 and not result.duration_is_estimate:
        # e.g. a fragmented MP4: FFmpeg knows these cases. (An estimate of 0 is final: no audio.)
        raise Unrecognised(f"mutagen found no duration in {kind}")
    return result
