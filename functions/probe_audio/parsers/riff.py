"""RIFF-style PCM containers: WAV (incl. WAVE_FORMAT_EXTENSIBLE), RF64/BW64 and AIFF.

``fmt``/``COMM`` and the ``data``/``SSND`` chunk size give an exact length; chunk iteration seeks
past the audio, so one head block is enough. Compressed WAV/AIFF-C payloads are left to FFmpeg,
which names their codecs the way gpu_job will decode them.
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


def parse_wav(reader: Any, size: int) -> ProbeFinding:
    # _WaveFile is mutagen's own RIFF walker (private; mutagen is pinned): it finds the fmt chunk
    # wherever it sits, which we need for WAVE_FORMAT_EXTENSIBLE's real sample format.
    from mutagen.wave import WaveStreamInfo, _WaveFile

    reader.seek(0)
    info = WaveStreamInfo(reader)
    reader.seek(0)
    fmt = _WaveFile(reader)["fmt"].read()
    codec = wav_codec(int(info.audio_format), fmt, int(info.bits_per_sample))
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
    pos, data_size64, fmt = 12, None, None
    while pos + 8 <= size:
        chunk_id, chunk_size = struct.unpack("<4sI", read_at(reader, pos, 8))
        if chunk_id == b"ds64":
            data_size64 = struct.unpack("<QQQ", read_at(reader, pos + 8, 24))[1]
        elif chunk_id == b"fmt ":
            fmt = read_at(reader, pos + 8, min(chunk_size, 64))
        elif chunk_id == b"data":
            if fmt is None or len(fmt) < 16:
                raise Unrecognised("RF64 data chunk before fmt")
            in_ds64 = chunk_size == _SIZE_IN_DS64 and data_size64 is not None
            data_size = data_size64 if in_ds64 else chunk_size
            audio_format, channels, sample_rate, _byte_rate, block_align, bits = struct.unpack(
                "<HHIIHH", fmt[:16]
            )
            if not (block_align and sample_rate):
                raise Unrecognised("RF64 fmt chunk without block size or sample rate")
            codec = wav_codec(audio_format, fmt, bits)
            info = _PcmInfo(sample_rate=sample_rate, channels=channels, bitrate=sample_rate * block_align * 8)
            result = header_result(data_size / block_align / sample_rate, "wav", codec, info, size)
            return replace(result, parser="rf64-header")
        elif chunk_size == _SIZE_IN_DS64:
            raise Unrecognised(f"RF64 chunk {chunk_id!r} with a 64-bit size we do not track")
        pos += 8 + chunk_size + (chunk_size & 1)
    raise Unrecognised("RF64 without a data chunk")


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
