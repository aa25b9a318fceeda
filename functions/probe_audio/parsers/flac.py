"""Native FLAC: STREAMINFO's total sample count gives an exact length from the first block."""

from __future__ import annotations

from typing import Any

from probe_audio.finding import ProbeFinding
from probe_audio.parsers.common import Unrecognised, header_result, read_at


def parse_flac(reader: Any, size: int) -> ProbeFinding:
    from mutagen.flac import StreamInfo

    # STREAMINFO is always the first metadata block (4-byte marker, 4-byte block header).
    header = read_at(reader, 4, 4)
    if header[0] & 0x7F != 0:
        raise Unrecognised("first FLAC metadata block is not STREAMINFO")
    length = int.from_bytes(header[1:4], "big")
    info = StreamInfo(read_at(reader, 8, length))
    return header_result(info.length, "flac", "flac", info, size)
