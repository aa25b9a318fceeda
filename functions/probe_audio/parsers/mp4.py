"""ISO-BMFF / QuickTime (MP4, M4A, MOV): the audio track's ``mdhd``, trimmed by its edit list.

Atoms are walked by header, so a large ``moov`` (sample tables grow with length) costs a few
blocks wherever it lies. mutagen ignores edit lists; FFmpeg honours them and so does this probe,
otherwise AAC priming (1024 samples) would count as audio. The track described is the first audio
track when it is marked enabled (FFmpeg's default disposition); otherwise FFmpeg chooses, by the
same rule as gpu_job (``pipeline.media``).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pipeline.outcomes import NoAudioStream

from probe_audio.finding import ProbeFinding
from probe_audio.parsers.common import Unrecognised, header_result, read_at

_TKHD_ENABLED = 0x000001
_CONTAINER_BY_BRAND = {b"qt  ": "mov", b"M4A ": "m4a", b"M4B ": "m4a"}


def parse_mp4(reader: Any, size: int) -> ProbeFinding:
    from mutagen.mp4 import Atoms, MP4Info, MP4NoTrackError

    moov, has_audio = _audio_moov(reader, size)
    if not has_audio:
        # mutagen would fall back to the movie length; for us "no audio track" is the answer.
        raise NoAudioStream("MP4/MOV file has no audio track")
    moov_file = io.BytesIO(moov)
    atoms = Atoms(moov_file)
    try:
        info = MP4Info(atoms, moov_file)
    except MP4NoTrackError as exc:
        raise NoAudioStream("MP4/MOV file has no audio track") from exc
    length = _edit_duration(atoms, moov_file)
    if length is None:
        length = info.length
    container = _CONTAINER_BY_BRAND.get(ftyp_brand(reader), "mp4")
    result = header_result(length, container, mp4_codec(str(info.codec)), info, size)
    channels = aac_config_channels(moov) if str(info.codec) == "mp4a.40.2" else None
    return replace(result, channels=channels) if channels else result


def aac_config_channels(moov: bytes) -> int | None:
    """The channel count an AAC-LC AudioSpecificConfig states (1-6), None when it states none.

    mutagen keeps the sample entry's count for a mono config (it cannot rule out parametric
    stereo), and 3GP writers put 2 there for every track; FFmpeg, and so gpu_job, use the config.
    Layout (ISO 14496-1/-3): esds, ES descriptor (tag 3), decoder config (tag 4), decoder specific
    info (tag 5) = 5 bits object type, 4 bits rate index (15: 24 more bits), 4 bits channels.
    """
    at = moov.find(b"esds")
    if at < 0:
        return None
    pos, end = at + 8, len(moov)  # past "esds" and its version/flags
    for tag, skip in ((3, 3), (4, 13), (5, 0)):
        if pos >= end or moov[pos] != tag:
            return None
        pos += 1
        for _ in range(4):  # descriptor length: up to four 7-bit groups
            pos += 1
            if moov[pos - 1] & 0x80 == 0 or pos >= end:
                break
        pos += skip
    config = int.from_bytes(moov[pos : pos + 5].ljust(5, b"\0"), "big")  # 40 bits
    rate_index = (config >> 31) & 0xF
    channels = (config >> (27 - (24 if rate_index == 15 else 0))) & 0xF
    return channels if 1 <= channels <= 6 else None


def ftyp_brand(reader: Any) -> bytes:
    """The major brand of the leading ``ftyp`` atom (b"" without one): what tells MOV from MP4."""
    return read_at(reader, 8, 4) if read_at(reader, 4, 4) == b"ftyp" else b""


def mp4_codec(name: str) -> str:
    """FFmpeg's name for a sample entry as mutagen reports it (``mp4a.40.2``, ``ac-3``, ...)."""
    if name.startswith("mp4a.40") or name == "mp4a":
        return "aac"
    if name == "mp4a.6B" or name == "mp4a.69":
        return "mp3"
    return {"alac": "alac", "ac-3": "ac3", "ec-3": "eac3", "Opus": "opus", "fLaC": "flac"}.get(name, name)


def _atoms(reader: Any, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(name, offset, header length, size) of the sibling atoms in [start, end), read lazily."""
    pos = start
    while pos + 8 <= end:
        head = read_at(reader, pos, 16)
        if len(head) < 8:
            raise Unrecognised(f"MP4 atom header cut at {pos}")
        atom_size, name = struct.unpack(">I4s", head[:8])
        header = 8
        if atom_size == 1 and len(head) == 16:
            atom_size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif atom_size == 0:
            atom_size = end - pos  # "extends to the end": only legal for the last atom
        if atom_size < header:
            raise Unrecognised(f"MP4 atom {name!r} at {pos} has size {atom_size}")
        yield name, pos, header, atom_size
        pos += atom_size


def _atom(name: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), name) + payload


def _audio_moov(reader: Any, size: int) -> tuple[bytes, bool]:
    """A copy of ``moov`` pruned to what mutagen's MP4Info needs, and whether it has an audio track.

    Hand-written because mutagen's atom tree reads the header of every atom in ``moov``, including
    those behind the sample tables (``stsz`` alone is 4 bytes per frame: 600 KiB for an hour of AAC,
    more per video track), and each of those headers lies in a different block. We read only
    ``mvhd`` and, per track, ``edts``, ``mdia/mdhd``, ``mdia/hdlr`` and ``stbl/stsd``, and stop at the
    first audio track: usually one block for ``moov`` plus one per video track in front of the audio.
    """
    moov = next(
        (
            (pos, header, atom_size)
            for name, pos, header, atom_size in _atoms(reader, 0, size)
            if name == b"moov"
        ),
        None,
    )
    if moov is None:
        raise Unrecognised("no moov atom (truncated file?)")
    moov_pos, moov_header, moov_size = moov
    mvhd = b""
    traks: list[bytes] = []
    has_audio = False
    for name, pos, _header, atom_size in _atoms(reader, moov_pos + moov_header, moov_pos + moov_size):
        if name == b"mvhd":
            mvhd = read_at(reader, pos, atom_size)
        elif name == b"trak":
            trak, handler, enabled = _pruned_trak(reader, pos, atom_size)
            traks.append(trak)
            if handler == b"soun":
                if not enabled:
                    # The transcribed track is the one marked default (tkhd "enabled", which FFmpeg
                    # reads as the default disposition), else the first: FFmpeg picks among several.
                    raise Unrecognised("first audio track is not marked default")
                has_audio = True
                if mvhd:
                    break
    return _atom(b"moov", mvhd + b"".join(traks)), has_audio


def _pruned_trak(reader: Any, pos: int, atom_size: int) -> tuple[bytes, bytes, bool]:
    """The ``trak`` at ``pos`` with only edts and mdia/{mdhd, hdlr, minf/stbl/stsd}, its handler, and
    whether its ``tkhd`` marks it enabled."""

    def children(start: int, length: int) -> Iterator[tuple[bytes, int, int, int]]:
        header = 16 if struct.unpack(">I", read_at(reader, start, 4))[0] == 1 else 8
        return _atoms(reader, start + header, start + length)

    edts = mdia = b""
    handler = b""
    enabled = True  # a trak without tkhd is malformed; FFmpeg keeps it, and so do we
    for name, child, child_header, child_size in children(pos, atom_size):
        if name == b"tkhd":
            flags = read_at(reader, child + child_header + 1, 3)
            enabled = len(flags) == 3 and bool(flags[2] & _TKHD_ENABLED)
        elif name == b"edts":
            edts = read_at(reader, child, child_size)
        elif name == b"mdia":
            kept: dict[bytes, bytes] = {}
            for mname, mpos, _mh, msize in children(child, child_size):
                if mname in (b"mdhd", b"hdlr"):
                    kept[mname] = read_at(reader, mpos, msize)
                elif mname == b"minf":
                    for iname, ipos, _ih, isize in children(mpos, msize):
                        if iname == b"stbl":
                            # stsd is stbl's first child; the sample tables behind it are not needed.
                            stsd = next(
                                (
                                    read_at(reader, spos, ssize)
                                    for sname, spos, _sh, ssize in children(ipos, isize)
                                    if sname == b"stsd"
                                ),
                                b"",
                            )
                            kept[b"minf"] = _atom(b"minf", _atom(b"stbl", stsd))
                            break
                if len(kept) == 3:
                    break
            hdlr = kept.get(b"hdlr", b"")
            handler = hdlr[16:20] if len(hdlr) >= 20 else b""
            mdia = _atom(b"mdia", b"".join(kept.get(k, b"") for k in (b"mdhd", b"hdlr", b"minf")))
            break
    return _atom(b"trak", edts + mdia), handler, enabled


def _handler(trak: Any, reader: Any) -> bytes:
    ok, hdlr = trak[b"mdia", b"hdlr"].read(reader)
    return bytes(hdlr[8:12]) if ok else b""


def _edit_duration(atoms: Any, reader: Any) -> float | None:
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
            if _handler(trak, reader) != b"soun":
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
