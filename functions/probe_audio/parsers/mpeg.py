"""MPEG audio elementary streams: MP3 (behind an ID3v2 tag or not) and raw AAC (ADTS/ADIF).

MP3: a Xing/Info (LAME, with encoder delay/padding) or VBRI frame count is exact. Without either
header mutagen extrapolates the first frame's bitrate over the file size: exact for CBR (checked by
sampling frames in the middle), far off for VBR, where we estimate from sampled frame sizes instead
(FFmpeg also only estimates there). Tags are never parsed: an ID3v2 tag is skipped by its size.
Raw AAC has no length header at all; mutagen estimates from the first 100 frames.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from typing import Any

from probe_audio.finding import ProbeFinding
from probe_audio.parsers.common import Unrecognised, header_result, read_at

# One block of the S3 reader (its default block size), so that each sampled window costs one block.
MP3_SAMPLE_WINDOW = 16 * 1024


def parse_mp3(reader: Any, size: int) -> ProbeFinding:
    from mutagen.mp3 import MPEGInfo

    reader.seek(0)
    info = MPEGInfo(reader)  # skips ID3v2 by its header size without parsing the frames
    if info.sketchy:
        raise Unrecognised("no run of valid MPEG audio frames")
    codec = {1: "mp1", 2: "mp2", 3: "mp3"}[int(info.layer)]
    length, bitrate, estimated = float(info.length), int(info.bitrate), False
    audio_bytes = size - int(info.frame_offset)
    if info.bitrate and math.isclose(length, 8 * audio_bytes / info.bitrate, rel_tol=1e-9):
        # No Xing/VBRI frame count: mutagen extrapolated the first frame's bitrate over the file.
        length, bitrate, estimated = _mp3_length_without_header(reader, info, audio_bytes)
    result = header_result(length, "mp3", codec, info, size, bitrate=bitrate)
    return replace(result, duration_is_estimate=estimated)


def parse_aac(reader: Any, size: int) -> ProbeFinding:
    """Raw AAC (ADTS/ADIF) has no length anywhere: mutagen averages the first 100 frames' sizes.

    FFmpeg estimates too (and, allowed only a few packets, far worse), so this is an estimate that
    agrees with ffprobe's to a fraction of a percent on ordinary files, not an exact length.
    """
    from mutagen.aac import AACInfo

    reader.seek(0)
    info = AACInfo(reader)
    return replace(header_result(info.length, "aac", "aac", info, size), duration_is_estimate=True)


def _mp3_length_without_header(reader: Any, info: Any, audio_bytes: int) -> tuple[float, int, bool]:
    """Length of an MP3 without Xing/VBRI header, from frame sizes sampled across the file.

    Extrapolating the first frame (mutagen) is exact for CBR and can be off several-fold for VBR
    (a loud first frame at 256 kbit/s in a 96 kbit/s file); FFmpeg's estimate is off too. Exact needs
    a full scan, so we sample: one window in the middle; if every frame there has the first frame's
    bitrate the file is CBR and the extrapolation stands, otherwise two more windows (at 1/4 and
    3/4) give an average frame size. That is an estimate, within a few percent on ordinary VBR, and
    flagged as one (the third value).
    """
    middle = mp3_frame_sizes(reader, info.frame_offset + audio_bytes // 2)
    if middle and all(rate == info.bitrate for _, rate in middle):
        return float(info.length), int(info.bitrate), False
    sampled = list(middle)
    for fraction in (0.25, 0.75):
        sampled += mp3_frame_sizes(reader, info.frame_offset + int(audio_bytes * fraction))
    if not sampled:
        raise Unrecognised("no MPEG frames found in the sampled windows")
    samples_per_frame = 1152 if info.layer != 1 else 384
    if info.layer == 3 and info.version != 1:
        samples_per_frame = 576
    mean_frame = sum(length for length, _ in sampled) / len(sampled)
    length = audio_bytes / mean_frame * samples_per_frame / info.sample_rate
    return length, round(audio_bytes * 8 / length), True


def mp3_frame_sizes(reader: Any, offset: int) -> list[tuple[int, int]]:
    """(frame length in bytes, bitrate) of a run of consecutive frames found near ``offset``.

    Empty when the window holds no such run: four frames in a row, each starting where the previous
    ended, is not a chance sync, fewer may be.
    """
    from mutagen.mp3 import HeaderNotFoundError, MPEGFrame, iter_sync

    offset -= offset % MP3_SAMPLE_WINDOW
    window = io.BytesIO(read_at(reader, offset, MP3_SAMPLE_WINDOW))
    for _ in iter_sync(window, MP3_SAMPLE_WINDOW):
        start = window.tell()
        frames: list[tuple[int, int]] = []
        try:
            while True:
                frame = MPEGFrame(window)
                end = window.tell()
                if end > MP3_SAMPLE_WINDOW:
                    break  # the frame runs past the window; its header alone does not prove it
                frames.append((end - frame.frame_offset, int(frame.bitrate)))
        except HeaderNotFoundError:
            pass
        if len(frames) >= 4:
            return frames
        window.seek(start + 1)
    return []
