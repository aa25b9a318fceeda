"""Content sniffing: the magic bytes of the first block name the container family, whatever the key says.

Only used to choose a parser and to tell "not media at all" from "media, but broken"; the parsers
themselves validate the structure.
"""

from __future__ import annotations

# Atoms an ISO-BMFF/QuickTime file may start with (its first atom's type sits at bytes 4-8).
_MP4_FIRST_ATOMS = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


def sniff(head: bytes) -> str | None:
    """The container kind of ``head`` (the object's first bytes), or None when nothing we know matches."""
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
    if head[4:8] in _MP4_FIRST_ATOMS:
        return "mp4"
    if head[:4] == b"ADIF" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0):
        return "aac"  # ADTS: MPEG sync with layer bits 00, which MP3 frames never have
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None
