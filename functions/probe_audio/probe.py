"""Decide what an audio/video object is and how long it plays, reading as few bytes as possible.

Strategy, per container (the magic bytes of the first block pick the path):

* mutagen first, stream info only (never the tags: a cover picture can be megabytes):
  - WAV, AIFF: ``fmt``/``COMM`` and the ``data``/``SSND`` chunk size give an exact length; chunk
    iteration seeks past the audio, so one head block is enough.
  - RF64/BW64 (WAV over 4 GiB): mutagen only knows RIFF, so ``_rf64`` reads the ``ds64`` chunk by hand
    (FFmpeg could, but its WAV demuxer then reads 64 KiB+ of samples).
  - FLAC: STREAMINFO's total sample count (exact).
  - MP3: Xing/Info (LAME, with encoder delay/padding) or VBRI frame counts are exact. Without either
    header mutagen extrapolates the first frame's bitrate over the file size: exact for CBR (checked
    by sampling frames in the middle), far off for VBR, where we estimate from sampled frame sizes
    instead (see ``_mp3_length_without_header``; FFmpeg also only estimates there).
  - Raw AAC (ADTS/ADIF): no length header; mutagen's estimate from the first 100 frames.
  - MP4/M4A/MOV: the audio track's ``mdhd``; atoms are walked by header, so a large ``moov`` (sample
    tables grow with length) costs a few blocks, wherever it lies. mutagen ignores edit lists; FFmpeg
    honours them and so does this probe (see ``_mp4_edit_duration``), otherwise AAC priming (1024
    samples) would count as audio.
  - Ogg Vorbis/Opus/FLAC: identification header from the first page, length from the granule position
    of the stream's last page. mutagen looks for that page in the last 64 KiB; we first try the last
    16 KiB (ffmpeg/libogg pages hold about one second) and hand over to mutagen when it is not there.
    For Opus the pre-skip is subtracted (mutagen); ffprobe 5.1 does not, so it reports ~6.5 ms more.
* PyAV (the FFmpeg libraries) over the same cached file object for everything else (Matroska/WebM,
  video containers mutagen does not know, odd files) and whenever mutagen cannot decide. FFmpeg is
  first allowed to read almost no packets: the container header usually says all we need.

The result uses FFmpeg's codec names so that what we record matches what gpu_job will decode.
"""
from __future__ import annotations

import io
import logging
import math
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from common.errors import CorruptMedia, DurationOutOfRange, NoAudioStream, NotMedia, ZeroByteObject

from probe_audio.s3_reader import ReadBudgetExceeded

log = logging.getLogger(__name__)

OGG_TAIL_BYTES = 16 * 1024
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


@dataclass(frozen=True)
class ProbeResult:
    duration_s: float
    container: str
    codec: str
    sample_rate: int
    channels: int
    bitrate: int
    size: int
    has_audio: bool
    parser: str  # "mutagen", "rf64-header" or "pyav": what answered (logged, not in the contract)

    def to_contract(self) -> dict[str, Any]:
        """The ProbeResult dict of docs/CONTRACTS.md."""
        data = asdict(self)
        data.pop("parser")
        return data


class _Unrecognised(Exception):
    """mutagen could not answer; let FFmpeg try."""


# What a parser raises on bytes that are not what it expects (besides mutagen's own errors).
# ObjectChanged, ReadBudgetExceeded and botocore errors are deliberately not among them.
_PARSE_ERRORS: tuple[type[Exception], ...] = (
    struct.error, ValueError, EOFError, OSError, LookupError, ArithmeticError,
)


def sniff(head: bytes) -> str | None:
    """Name the container from its magic bytes, or None when nothing we know matches.

    Only used to choose a parser and to tell "not media at all" from "media, but broken"; the
    parsers themselves validate the structure.
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] in (b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "rf64"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "mp4"
    if head[:4] == b"ADIF" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0):
        return "aac"  # ADTS: MPEG sync with layer bits 00, which MP3 frames never have
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def probe(reader: Any, max_duration_s: float) -> ProbeResult:
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

    result: ProbeResult | None = None
    try:
        result = _probe_mutagen(kind, reader, size)
    except (_Unrecognised, ReadBudgetExceeded) as exc:
        log.info("mutagen could not probe (%s: %s); trying FFmpeg", kind, exc)
    if result is None:
        result = _probe_pyav(reader, size, kind)

    if not result.duration_s or result.duration_s <= 0:
        raise DurationOutOfRange(f"no usable duration ({result.duration_s!r}) in {result.container}")
    if result.duration_s > max_duration_s:
        raise DurationOutOfRange(
            f"duration {result.duration_s:.1f} s exceeds the limit of {max_duration_s:.0f} s"
        )
    return result


def _pread(reader: Any, offset: int, size: int) -> bytes:
    reader.seek(offset)
    return bytes(reader.read(size))


# --------------------------------------------------------------------------------------------- mutagen
def _probe_mutagen(kind: str | None, reader: Any, size: int) -> ProbeResult:
    import mutagen  # imported here so that cold starts that only need FFmpeg do not pay for it

    handlers = {
        "wav": _mutagen_wav,
        "rf64": _rf64,
        "aiff": _mutagen_aiff,
        "flac": _mutagen_flac,
        "mp3": _mutagen_mp3,
        "aac": _mutagen_aac,
        "mp4": _mutagen_mp4,
        "ogg": _mutagen_ogg,
    }
    handler = handlers.get(kind or "")
    if handler is None:
        raise _Unrecognised(f"no mutagen path for {kind}")
    try:
        result = handler(reader, size)
    except NoAudioStream:
        raise
    except (mutagen.MutagenError, *_PARSE_ERRORS) as exc:
        raise _Unrecognised(f"{type(exc).__name__}: {exc}") from exc
    if not result.duration_s > 0:
        # e.g. a WAV written to a pipe (data size 0) or a fragmented MP4: FFmpeg knows these cases.
        raise _Unrecognised(f"mutagen found no duration in {kind}")
    return result


def _result(duration: float, container: str, codec: str, info: Any, size: int, bitrate: int | None = None
            ) -> ProbeResult:
    length = float(duration)
    rate = int(bitrate if bitrate is not None else getattr(info, "bitrate", 0) or 0)
    if not rate and length > 0:
        rate = round(size * 8 / length)
    return ProbeResult(
        duration_s=round(length, 6),
        container=container,
        codec=codec,
        sample_rate=int(getattr(info, "sample_rate", 0) or 0),
        channels=int(getattr(info, "channels", 0) or 0),
        bitrate=rate,
        size=size,
        has_audio=True,
        parser="mutagen",
    )


_WAV_FORMATS = {1: "pcm_{sign}{bits}le", 3: "pcm_f{bits}le", 6: "pcm_alaw", 7: "pcm_mulaw"}
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


def _mutagen_wav(reader: Any, size: int) -> ProbeResult:
    # _WaveFile is mutagen's own RIFF walker (private; mutagen is pinned): it finds the fmt chunk
    # wherever it sits, which we need for WAVE_FORMAT_EXTENSIBLE's real sample format.
    from mutagen.wave import WaveStreamInfo, _WaveFile

    reader.seek(0)
    info = WaveStreamInfo(reader)
    reader.seek(0)
    fmt = _WaveFile(reader)["fmt"].read()
    codec = _wav_codec(int(info.audio_format), fmt, int(info.bits_per_sample))
    return _result(info.length, "wav", codec, info, size)


def _wav_codec(audio_format: int, fmt: bytes, bits: int) -> str:
    if audio_format == _WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        # WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two bytes of SubFormat.
        audio_format = struct.unpack("<H", fmt[24:26])[0]
    template = _WAV_FORMATS.get(audio_format)
    if template is None:
        raise _Unrecognised(f"WAV format 0x{audio_format:04x} (compressed): let FFmpeg name it")
    return template.format(sign="u" if bits == 8 else "s", bits=bits)


def _rf64(reader: Any, size: int) -> ProbeResult:
    """RF64/BW64 (WAV over 4 GiB): hand-written because mutagen only knows RIFF.

    FFmpeg reads RF64 too, but its WAV demuxer then reads 64 KiB of samples (S/PDIF detection) and
    more to fill its probe; the header alone is exact. Layout (EBU Tech 3306): "RF64", -1, "WAVE",
    then a ``ds64`` chunk with the 64-bit RIFF size, data size and sample count, then the usual
    chunks, where a 32-bit size of 0xFFFFFFFF means "see ds64".
    """
    pos, data_size64, fmt = 12, None, None
    while pos + 8 <= size:
        chunk_id, chunk_size = struct.unpack("<4sI", _pread(reader, pos, 8))
        if chunk_id == b"ds64":
            data_size64 = struct.unpack("<QQQ", _pread(reader, pos + 8, 24))[1]
        elif chunk_id == b"fmt ":
            fmt = _pread(reader, pos + 8, min(chunk_size, 64))
        elif chunk_id == b"data":
            if fmt is None or len(fmt) < 16:
                raise _Unrecognised("RF64 data chunk before fmt")
            data_size = data_size64 if chunk_size == 0xFFFFFFFF and data_size64 is not None else chunk_size
            audio_format, channels, sample_rate, _byte_rate, block_align, bits = struct.unpack(
                "<HHIIHH", fmt[:16]
            )
            if not (block_align and sample_rate):
                raise _Unrecognised("RF64 fmt chunk without block size or sample rate")
            codec = _wav_codec(audio_format, fmt, bits)
            info = _PcmInfo(sample_rate=sample_rate, channels=channels, bitrate=sample_rate * block_align * 8)
            result = _result(data_size / block_align / sample_rate, "wav", codec, info, size)
            return replace(result, parser="rf64-header")
        elif chunk_size == 0xFFFFFFFF:
            raise _Unrecognised(f"RF64 chunk {chunk_id!r} with a 64-bit size we do not track")
        pos += 8 + chunk_size + (chunk_size & 1)
    raise _Unrecognised("RF64 without a data chunk")


@dataclass(frozen=True)
class _PcmInfo:
    sample_rate: int
    channels: int
    bitrate: int


def _mutagen_aiff(reader: Any, size: int) -> ProbeResult:
    from mutagen.aiff import AIFFInfo

    reader.seek(0)
    info = AIFFInfo(reader)
    if _pread(reader, 8, 4) == b"AIFC":
        raise _Unrecognised("AIFF-C: compression type named by FFmpeg")
    return _result(info.length, "aiff", f"pcm_s{int(info.bits_per_sample)}be", info, size)


def _mutagen_flac(reader: Any, size: int) -> ProbeResult:
    from mutagen.flac import StreamInfo

    # STREAMINFO is always the first metadata block (4-byte marker, 4-byte block header).
    header = _pread(reader, 4, 4)
    if header[0] & 0x7F != 0:
        raise _Unrecognised("first FLAC metadata block is not STREAMINFO")
    length = int.from_bytes(header[1:4], "big")
    info = StreamInfo(_pread(reader, 8, length))
    return _result(info.length, "flac", "flac", info, size)


def _mutagen_mp3(reader: Any, size: int) -> ProbeResult:
    from mutagen.mp3 import MPEGInfo

    reader.seek(0)
    info = MPEGInfo(reader)  # skips ID3v2 by its header size without parsing the frames
    if info.sketchy:
        raise _Unrecognised("no run of valid MPEG audio frames")
    codec = {1: "mp1", 2: "mp2", 3: "mp3"}[int(info.layer)]
    length, bitrate = float(info.length), int(info.bitrate)
    audio_bytes = size - int(info.frame_offset)
    if info.bitrate and math.isclose(length, 8 * audio_bytes / info.bitrate, rel_tol=1e-9):
        # No Xing/VBRI frame count: mutagen extrapolated the first frame's bitrate over the file.
        length, bitrate = _mp3_length_without_header(reader, size, info, audio_bytes)
    return _result(length, "mp3", codec, info, size, bitrate=bitrate)


def _mutagen_aac(reader: Any, size: int) -> ProbeResult:
    """Raw AAC (ADTS/ADIF) has no length anywhere: mutagen averages the first 100 frames' sizes.

    FFmpeg estimates too (and, allowed only a few packets, far worse), so this is an estimate that
    agrees with ffprobe's to a fraction of a percent on ordinary files, not an exact length.
    """
    from mutagen.aac import AACInfo

    reader.seek(0)
    info = AACInfo(reader)
    return _result(info.length, "aac", "aac", info, size)


MP3_SAMPLE_WINDOW = 16 * 1024


def _mp3_length_without_header(reader: Any, size: int, info: Any, audio_bytes: int) -> tuple[float, int]:
    """Length of an MP3 without Xing/VBRI header, from frame sizes sampled across the file.

    Extrapolating the first frame (mutagen) is exact for CBR and can be off several-fold for VBR
    (a loud first frame at 256 kbit/s in a 96 kbit/s file); FFmpeg's estimate is off too. Exact needs
    a full scan, so we sample: one window in the middle; if every frame there has the first frame's
    bitrate the file is CBR and the extrapolation stands, otherwise two more windows (at 1/4 and
    3/4) give an average frame size. That is an estimate, within a few percent on ordinary VBR.
    """
    middle = _mp3_frame_sizes(reader, info.frame_offset + audio_bytes // 2)
    if middle and all(rate == info.bitrate for _, rate in middle):
        return float(info.length), int(info.bitrate)
    sampled = list(middle)
    for fraction in (0.25, 0.75):
        sampled += _mp3_frame_sizes(reader, info.frame_offset + int(audio_bytes * fraction))
    if not sampled:
        raise _Unrecognised("no MPEG frames found in the sampled windows")
    samples_per_frame = 1152 if info.layer != 1 else 384
    if info.layer == 3 and info.version != 1:
        samples_per_frame = 576
    mean_frame = sum(length for length, _ in sampled) / len(sampled)
    length = audio_bytes / mean_frame * samples_per_frame / info.sample_rate
    return length, round(audio_bytes * 8 / length)


def _mp3_frame_sizes(reader: Any, offset: int) -> list[tuple[int, int]]:
    """(frame length in bytes, bitrate) of a run of consecutive frames found near ``offset``."""
    from mutagen.mp3 import HeaderNotFoundError, MPEGFrame, iter_sync

    # Aligned so that the window is exactly one block of the S3 reader (its default block size).
    offset -= offset % MP3_SAMPLE_WINDOW
    window = io.BytesIO(_pread(reader, offset, MP3_SAMPLE_WINDOW))
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
        # Four frames in a row, each starting where the previous ended, is not a chance sync.
        if len(frames) >= 4:
            return frames
        window.seek(start + 1)
    return []


def _mutagen_mp4(reader: Any, size: int) -> ProbeResult:
    from mutagen.mp4 import Atoms, MP4Info, MP4NoTrackError

    moov, has_audio = _mp4_audio_moov(reader, size)
    if not has_audio:
        # mutagen would fall back to the movie length; for us "no audio track" is the answer.
        raise NoAudioStream("MP4/MOV file has no audio track")
    moov_file = io.BytesIO(moov)
    atoms = Atoms(moov_file)
    try:
        info = MP4Info(atoms, moov_file)
    except MP4NoTrackError as exc:
        raise NoAudioStream("MP4/MOV file has no audio track") from exc
    length = _mp4_edit_duration(atoms, moov_file)
    if length is None:
        length = info.length
    brand = _pread(reader, 8, 4) if _pread(reader, 4, 4) == b"ftyp" else b""
    container = {b"qt  ": "mov", b"M4A ": "m4a", b"M4B ": "m4a"}.get(brand, "mp4")
    return _result(length, container, _mp4_codec(str(info.codec)), info, size)


def _mp4_atoms(reader: Any, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(name, offset, header length, size) of the sibling atoms in [start, end), read lazily."""
    pos = start
    while pos + 8 <= end:
        head = _pread(reader, pos, 16)
        if len(head) < 8:
            raise _Unrecognised(f"MP4 atom header cut at {pos}")
        atom_size, name = struct.unpack(">I4s", head[:8])
        header = 8
        if atom_size == 1 and len(head) == 16:
            atom_size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif atom_size == 0:
            atom_size = end - pos  # "extends to the end": only legal for the last atom
        if atom_size < header:
            raise _Unrecognised(f"MP4 atom {name!r} at {pos} has size {atom_size}")
        yield name, pos, header, atom_size
        pos += atom_size


def _mp4_atom(name: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), name) + payload


def _mp4_audio_moov(reader: Any, size: int) -> tuple[bytes, bool]:
    """A copy of ``moov`` pruned to what mutagen's MP4Info needs, and whether it has an audio track.

    Hand-written because mutagen's atom tree reads the header of every atom in ``moov``, including
    those behind the sample tables (``stsz`` alone is 4 bytes per frame: 600 KiB for an hour of AAC,
    more per video track), and each of those headers lies in a different block. We read only
    ``mvhd`` and, per track, ``edts``, ``mdia/mdhd``, ``mdia/hdlr`` and ``stbl/stsd``, and stop at the
    first audio track: usually one block for ``moov`` plus one per video track in front of the audio.
    """
    moov = next(((pos, header, atom_size) for name, pos, header, atom_size in _mp4_atoms(reader, 0, size)
                 if name == b"moov"), None)
    if moov is None:
        raise _Unrecognised("no moov atom (truncated file?)")
    moov_pos, moov_header, moov_size = moov
    mvhd = b""
    traks: list[bytes] = []
    has_audio = False
    for name, pos, _header, atom_size in _mp4_atoms(reader, moov_pos + moov_header, moov_pos + moov_size):
        if name == b"mvhd":
            mvhd = _pread(reader, pos, atom_size)
        elif name == b"trak":
            trak, handler = _mp4_pruned_trak(reader, pos, atom_size)
            traks.append(trak)
            if handler == b"soun":
                has_audio = True
                if mvhd:
                    break
    return _mp4_atom(b"moov", mvhd + b"".join(traks)), has_audio


def _mp4_pruned_trak(reader: Any, pos: int, atom_size: int) -> tuple[bytes, bytes]:
    """The ``trak`` at ``pos`` with only edts and mdia/{mdhd, hdlr, minf/stbl/stsd}, and its handler."""

    def children(start: int, length: int) -> Iterator[tuple[bytes, int, int, int]]:
        header = 16 if struct.unpack(">I", _pread(reader, start, 4))[0] == 1 else 8
        return _mp4_atoms(reader, start + header, start + length)

    edts = mdia = b""
    handler = b""
    for name, child, _h, child_size in children(pos, atom_size):
        if name == b"edts":
            edts = _pread(reader, child, child_size)
        elif name == b"mdia":
            kept: dict[bytes, bytes] = {}
            for mname, mpos, _mh, msize in children(child, child_size):
                if mname in (b"mdhd", b"hdlr"):
                    kept[mname] = _pread(reader, mpos, msize)
                elif mname == b"minf":
                    for iname, ipos, _ih, isize in children(mpos, msize):
                        if iname == b"stbl":
                            # stsd is stbl's first child; the sample tables behind it are not needed.
                            stsd = next(
                                (_pread(reader, spos, ssize)
                                 for sname, spos, _sh, ssize in children(ipos, isize) if sname == b"stsd"),
                                b"",
                            )
                            kept[b"minf"] = _mp4_atom(b"minf", _mp4_atom(b"stbl", stsd))
                            break
                if len(kept) == 3:
                    break
            hdlr = kept.get(b"hdlr", b"")
            handler = hdlr[16:20] if len(hdlr) >= 20 else b""
            mdia = _mp4_atom(b"mdia", b"".join(kept.get(k, b"") for k in (b"mdhd", b"hdlr", b"minf")))
            break
    return _mp4_atom(b"trak", edts + mdia), handler


def _mp4_handler(trak: Any, reader: Any) -> bytes:
    ok, hdlr = trak[b"mdia", b"hdlr"].read(reader)
    return bytes(hdlr[8:12]) if ok else b""


def _mp4_codec(name: str) -> str:
    if name.startswith("mp4a.40") or name == "mp4a":
        return "aac"
    if name == "mp4a.6B" or name == "mp4a.69":
        return "mp3"
    return {"alac": "alac", "ac-3": "ac3", "ec-3": "eac3", "Opus": "opus", "fLaC": "flac"}.get(name, name)


def _mp4_edit_duration(atoms: Any, reader: Any) -> float | None:
    """Presentation length of the audio track from its edit list, as FFmpeg computes it.

    Hand-written because mutagen does not read ``elst``. Only the summed segment durations of
    non-empty edits are used (in the movie timescale from ``mvhd``). None when absent or odd.
    """
    moov = atoms[b"moov",]
    mvhd_ok, mvhd = moov[b"mvhd",].read(reader)
    if not mvhd_ok or len(mvhd) < 20:
        return None
    timescale = struct.unpack(">I", mvhd[20:24] if mvhd[0] == 1 else mvhd[12:16])[0]
    if not timescale:
        return None
    for trak in moov.findall(b"trak"):
        try:
            if _mp4_handler(trak, reader) != b"soun":
                continue
            edts_ok, edts = trak[b"edts",].read(reader)
        except KeyError:
            return None
        # mutagen does not descend into edts; its payload is a single elst atom (size, type, body).
        if not edts_ok or len(edts) < 16 or edts[4:8] != b"elst":
            return None
        elst = edts[8 : struct.unpack(">I", edts[:4])[0]]
        if len(elst) < 8:
            return None
        version, count = elst[0], struct.unpack(">I", elst[4:8])[0]
        entry, fmt = (20, ">QqI") if version == 1 else (12, ">IiI")
        total = 0
        for i in range(count):
            start = 8 + i * entry
            if start + entry > len(elst):
                return None
            duration, media_time, _rate = struct.unpack(fmt, elst[start : start + entry])
            if media_time != -1:
                total += duration
        return total / timescale if total else None
    return None


def _mutagen_ogg(reader: Any, size: int) -> ProbeResult:
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
        raise _Unrecognised("Ogg stream that is not Opus, Vorbis or FLAC (or a multiplexed file)")
    info_type, codec = matches[0]
    reader.seek(0)
    info = info_type(reader)

    tail_start = max(0, size - OGG_TAIL_BYTES)
    tail = _pread(reader, tail_start, size - tail_start)
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
    bitrate = round(size * 8 / info.length) if info.length else 0
    result = _result(info.length, "ogg", codec, info, size, bitrate=bitrate)
    if codec == "opus":
        # Opus always decodes at 48 kHz (OpusHead's input rate is informational); FFmpeg says 48000 too.
        result = replace(result, sample_rate=48000)
    return result


# ----------------------------------------------------------------------------------------------- PyAV
def _probe_pyav(reader: Any, size: int, kind: str | None) -> ProbeResult:
    result = _probe_pyav_once(reader, size, kind, PYAV_PASSES[0])
    if not (result.sample_rate and result.channels and result.duration_s):
        # Blocks read by the first pass are cached, so the second pass pays only for new bytes.
        result = _probe_pyav_once(reader, size, kind, PYAV_PASSES[1])
    return result


def _probe_pyav_once(reader: Any, size: int, kind: str | None, options: dict[str, str]) -> ProbeResult:
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
        fmt_name = container.format.name
        bitrate = int(container.bit_rate or ctx.bit_rate or 0)
        return ProbeResult(
            duration_s=round(duration, 6) if duration else 0.0,
            container=_container_name(fmt_name, kind, reader),
            codec=str(ctx.name),
            sample_rate=int(ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            bitrate=bitrate or (round(size * 8 / duration) if duration else 0),
            size=size,
            has_audio=True,
            parser="pyav",
        )


def _container_name(ffmpeg_name: str, kind: str | None, reader: Any) -> str:
    if ffmpeg_name.startswith("matroska"):
        # The EBML header's DocType tells WebM from Matroska; FFmpeg uses one demuxer for both.
        return "webm" if b"webm" in _pread(reader, 0, 64) else "matroska"
    if ffmpeg_name.startswith("mov,"):
        return "mov" if kind == "mp4" and _pread(reader, 8, 4) == b"qt  " else "mp4"
    if kind == "rf64":
        return "wav"
    return ffmpeg_name.split(",")[0]
