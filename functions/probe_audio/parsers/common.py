"""What every header parser shares: how it says "not mine", how it reads, how it builds its answer."""

from __future__ import annotations

import struct
from typing import Any

from probe_audio.finding import ProbeFinding, average_bitrate


class Unrecognised(Exception):
    """A header parser could not answer; let FFmpeg try."""


# What a parser raises on bytes that are not what it expects (besides mutagen's own errors).
# SourceSuperseded (ObjectChanged), ReadBudgetExceeded and botocore errors are deliberately not among them.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    struct.error,
    ValueError,
    EOFError,
    OSError,
    LookupError,
    ArithmeticError,
)


def read_at(reader: Any, offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset`` (fewer at the end): parsers jump around, the reader caches blocks."""
    reader.seek(offset)
    return bytes(reader.read(size))


def header_result(
    duration: float, container: str, codec: str, info: Any, size: int, bitrate: int | None = None
) -> ProbeFinding:
    """A ProbeFinding from a mutagen-style stream info (``sample_rate``, ``channels``, ``bitrate``)."""
    length = float(duration)
    rate = int(bitrate if bitrate is not None else getattr(info, "bitrate", 0) or 0)
    return ProbeFinding(
        duration_s=round(length, 6),
        container=container,
        codec=codec,
        sample_rate=int(getattr(info, "sample_rate", 0) or 0),
        channels=int(getattr(info, "channels", 0) or 0),
        bitrate=rate or average_bitrate(size, length),
        size=size,
        has_audio=True,
        parser="mutagen",
    )
