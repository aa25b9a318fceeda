"""Ogg Opus, Vorbis and FLAC: identification header from the first page, length from the last page.

The length is the granule position of the stream's final page. mutagen looks for that page in the
last 64 KiB; we first try the last ``OGG_TAIL_BYTES`` (ffmpeg/libogg pages hold about one second)
and hand over to mutagen's search when it is not there. For Opus the pre-skip is subtracted
(mutagen); ffprobe 5.1 does not, so it reports ~6.5 ms more.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from probe_audio.finding import ProbeFinding, average_bitrate
from probe_audio.parsers.common import Unrecognised, header_result, read_at

OGG_TAIL_BYTES = 16 * 1024
# Opus always decodes at 48 kHz (OpusHead's input rate is informational); FFmpeg says 48000 too.
OPUS_SAMPLE_RATE = 48000


def parse_ogg(reader: Any, size: int) -> ProbeFinding:
    from mutagen.ogg import OggPage
    from mutagen.oggflac import OggFLACStreamInfo
    from mutagen.oggopus import OggOpusInfo
    from mutagen.oggvorbis import OggVorbisInfo

    reader.seek(0)
    first = OggPage(reader)
    packet = first.packets[0] if first.packets else b""
    info_types: list[tuple[bytes, Any, str]] = [
        (b"OpusHead", OggOpusInfo, "opus"),
        (b"\x01vorbis", OggVorbisInfo, "vorbis"),
        (b"\x7fFLAC", OggFLACStreamInfo, "flac"),
    ]
    matches = [(info_type, codec) for magic, info_type, codec in info_types if packet.startswith(magic)]
    if not matches:
        raise Unrecognised("Ogg stream that is not Opus, Vorbis or FLAC (or a multiplexed file)")
    info_type, codec = matches[0]
    reader.seek(0)
    info = info_type(reader)

    tail_start = max(0, size - OGG_TAIL_BYTES)
    tail = read_at(reader, tail_start, size - tail_start)
    index = tail.rfind(b"OggS")
    last_page = None
    if index >= 0:
        try:
            last_page = OggPage(io.BytesIO(tail[index:]))
        except Exception:  # mutagen raises several types for a torn page; any means "not here"
            last_page = None
    is_final = last_page is not None and last_page.last and last_page.position >= 0
    if last_page is not None and is_final and last_page.serial == info.serial:
        # mutagen's own granule-to-seconds arithmetic (pre-skip for Opus), fed only the final page.
        info._post_tags(io.BytesIO(tail[index:]))
    else:
        reader.seek(0)
        info._post_tags(reader)
    # The identification headers' nominal bitrates say little about the file; the average does.
    result = header_result(info.length, "ogg", codec, info, size, bitrate=average_bitrate(size, info.length))
    if codec == "opus":
        result = replace(result, sample_rate=OPUS_SAMPLE_RATE)
    return result
