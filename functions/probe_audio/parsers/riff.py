"""RIFF-style PCM containers: WAV (incl. WAVE_FORMAT_EXTENSIBLE), RF64/BW64 and AIFF.

``fmt``/``COMM`` and the ``data``/``SSND`` chunk size give an exact length; chunk iteration seeks
past the audio, so one head block is enough. A WAV written by a streaming capture has no usable
data size (0 or 0xFFFFFFFF): its length is then bounded by the object size and flagged an estimate.
Compressed WAV/AIFF-C payloads are left to FFmpeg, which names their codecs the way gpu_job decodes them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Any

from probe_audio.finding import ProbeFinding
from probe_audio.parsers.common import Unrecognised, header_result, read_at

_WAV_FORMATS = {1: "pcm_{sign}{bits}le", 3: "pcm_f{bits}le", 6: "pcm_alaw", 7: "pcm_mulaw"}
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_SIZE_IN_DS64 = 0xFFFFFFFF
# Data sizes a streaming writer leaves in the header when it cannot seek back to fill them in.
_STREAMED_SIZES = (0, 0xFFFFFFFF)


def parse_wav(reader: Any, size: int) -> ProbeFinding:
    # _WaveFile is mutagen's own RIFF walker (private; mutagen is pinned): it finds the fmt chunk
    # wherever it sits, which we need for WAVE_FORMAT_EXTENSIBLE's real sample format.
    from mutagen.wave import WaveStreamInfo, _WaveFile

    if struct.unpack("<I", read_at(reader, 4, 4))[0] in _STREAMED_SIZES:
        # A streaming writer never filled in the RIFF size (mutagen sees no chunks inside size 0).
        fmt, data_offset, _data_size, _ds64 = _walk_chunks(reader, size)
        return _pcm_result(fmt, size - data_offset, size, estimate=True)
    reader.seek(0)
    info = WaveStreamInfo(reader)
    reader.seek(0)
    wave = _WaveFile(reader)
    fmt = wave["fmt"].read()
    codec = wav_codec(int(info.audio_format), fmt, int(info.bits_per_sample))
    data = wave["data"]
    if data.data_size in _STREAMED_SIZES or data.data_offset + data.data_size > size:
        # Streamed (0, or 0xFFFFFFFF as ``ffmpeg -f wav -`` writes) or cut short: the samples are
        # what the object holds after the data chunk header, an upper bound (a trailing chunk
        # would count as audio), flagged as an estimate. Believing the header gave 24347.9 s for 5 s.
        return _pcm_result(fmt, size - data.data_offset, size, estimate=True)
    return header_result(info.length, "wav", codec, info, size)


def wav_codec(audio_format: int, fmt: bytes, bits: int) -> str:
    """FFmpeg's name for a WAV ``fmt`` chunk's PCM format; Unrecognised for compressed ones."""
    if audio_format == _WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        # WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two bytes of SubFormat.
        audio_format = struct.unpack("<H", fmt[24:26])[0]
    template = _WAV_FORMATS.get(audio_format)
    if template is None:
        raise Unrecognised(f"WAV format 0x{audio_format:04x} (compressed): let FFmpeg name it")
    if audio_format == 1 and bits == 8:
        return "pcm_u8"  # one byte has no byte order, so FFmpeg's name has no "le"
    return template.format(sign="s", bits=bits)


def parse_rf64(reader: Any, size: int) -> ProbeFinding:
    """RF64/BW64 (WAV over 4 GiB): hand-written because mutagen only knows RIFF.

    FFmpeg reads RF64 too, but its WAV demuxer then reads 64 KiB of samples (S/PDIF detection) and
    more to fill its probe; the header alone is exact. Layout (EBU Tech 3306): "RF64", -1, "WAVE",
    then a ``ds64`` chunk with the 64-bit RIFF size, data size and sample count, then the usual
    chunks, where a 32-bit size of 0xFFFFFFFF means "see ds64".
    """
    fmt, _offset, chunk_size, data_size64 = _walk_chunks(reader, size)
    in_ds64 = chunk_size == _SIZE_IN_DS64 and data_size64 is not None
    result = _pcm_result(fmt, data_size64 if in_ds64 and data_size64 is not None else chunk_size, size)
    return replace(result, parser="rf64-header")


def _walk_chunks(reader: Any, size: int) -> tuple[bytes, int, int, int | None]:
    """(fmt payload, data payload offset, data chunk's 32-bit size, ds64's data size) by hand,
    ignoring the RIFF size (RF64 and streamed WAVs do not state a usable one)."""
    pos, data_size64, fmt = 12, None, None
    while pos + 8 <= size:
        chunk_id, chunk_size = struct.unpack("<4sI", read_at(reader, pos, 8))
        if chunk_id == b"ds64":
            data_size64 = struct.unpack("<QQQ", read_at(reader, pos + 8, 24))[1]
        elif chunk_id == b"fmt ":
            fmt = read_at(reader, pos + 8, min(chunk_size, 64))
        elif chunk_id == b"data":
            if fmt is None or len(fmt) < 16:
                raise Unrecognised("WAV data chunk before fmt")
            return fmt, pos + 8, chunk_size, data_size64
        elif chunk_size == _SIZE_IN_DS64:
            raise Unrecognised(f"WAV chunk {chunk_id!r} with a 64-bit size we do not track")
        pos += 8 + chunk_size + (chunk_size & 1)
    raise Unrecognised("WAV without a data chunk")


def _pcm_result(fmt: bytes, data_size: int, size: int, estimate: bool = False) -> ProbeFinding:
    """The finding for ``data_size`` bytes of the PCM format ``fmt`` describes."""
    audio_format, channels, sample_rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if not (block_align and sample_rate):
        raise Unrecognised("WAV fmt chunk without block size or sample rate")
    codec = wav_codec(audio_format, fmt, bits)
    info = _PcmInfo(sample_rate=sample_rate, channels=channels, bitrate=sample_rate * block_align * 8)
    frames = max(data_size, 0) // block_align
    result = header_result(frames / sample_rate, "wav", codec, info, size)
    return replace(result, duration_is_estimate=estimate)


@dataclass(frozen=True)
class _PcmInfo:
    sample_rate: int
    channels: int
    bitrate: int


def parse_aiff(reader: Any, size: int) -> ProbeFinding:
    from mutagen.aiff import AIFFInfo

    reader.seek(0)
    info = AIFFInfo(reader)
    if read_at(reader, 8, 4) == b"AIFC":
        raise Unrecognised("AIFF-C: compression type named by FFmpeg")
    return header_result(info.length, "aiff", f"pcm_s{int(info.bits_per_sample)}be", info, size)
