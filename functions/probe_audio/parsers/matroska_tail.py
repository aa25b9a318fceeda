"""Matroska/WebM without a Duration element: the last cluster's timestamp, from a bounded tail read.

Browser MediaRecorder (and anything muxing to a pipe) writes WebM with no Duration, no Cues and
clusters of unknown size, so FFmpeg reports no length (or, for PCM, its own guess from the bitrate:
``declares_duration`` tells the two apart from the head block). Every cluster starts with its
Timestamp (EBML ID 0xE7) and every block inside carries a 16-bit offset from it, so the last
cluster in the final bytes (``TAIL_WINDOWS``) gives the start of the last block;
``LAST_BLOCK_MARGIN_S`` over that covers the block's own length (an unlaced audio block is at most
~1 s: Vorbis's 8192 samples at 8 kHz) and a few laced frames. A Cluster ID found inside payload
bytes is rejected unless a well-formed Timestamp follows it, and the result is still capped by the
size bound (``probe_audio.length``).
"""

from __future__ import annotations

from typing import Any

from probe_audio.parsers.common import read_at

TAIL_WINDOWS = (16 * 1024, 64 * 1024, 256 * 1024)
HEAD_BYTES = 16 * 1024
LAST_BLOCK_MARGIN_S = 2.0
_CLUSTER = b"\x1f\x43\xb6\x75"
_INFO, _SEGMENT, _CLUSTER_ID = 0x1549A966, 0x18538067, 0x1F43B675
_DURATION = 0x4489
_TIMESTAMP = 0xE7
_SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK = 0xA3, 0xA0, 0xA1


def declares_duration(reader: Any) -> bool:
    """Whether the Segment Info in the head states a Duration (else FFmpeg's length is its own guess
    from the bitrate). Info precedes the clusters in every muxer's output, within the first block."""
    head = read_at(reader, 0, HEAD_BYTES)
    info = _segment_child(head, _INFO)
    if info is None:
        return True  # no Info where expected: leave FFmpeg's answer alone
    _ident, body, length = info
    pos, end = body, len(head) if length < 0 else min(body + length, len(head))
    while pos < end and (child := _element(head, pos)) is not None:
        if child[0] == _DURATION:
            return True
        if child[2] < 0:
            break
        pos = child[1] + child[2]
    return False


def _segment_child(head: bytes, wanted: int) -> tuple[int, int, int] | None:
    """The Segment's top-level child ``wanted`` in ``head``, walked by element (a SeekHead entry
    names the same ID as payload, so a byte search would find the reference, not the element)."""
    header = _element(head, 0)
    if header is None or header[2] < 0:
        return None
    segment = _element(head, header[1] + header[2])
    if segment is None or segment[0] != _SEGMENT:
        return None
    pos = segment[1]
    while (child := _element(head, pos)) is not None and child[0] != _CLUSTER_ID:
        if child[0] == wanted:
            return child
        if child[2] < 0:
            return None
        pos = child[1] + child[2]
    return None


def tail_duration_s(reader: Any, size: int, tick_s: float) -> float | None:
    """Upper bound of the length from the last cluster (``tick_s``: seconds per timestamp unit,
    FFmpeg's stream time base), or None when the tail holds no parsable cluster.

    The window grows (16, 64, 256 KiB) until it holds a cluster start: audio-only recorders start
    a cluster every few seconds, i.e. within the first window at speech bitrates.
    """
    for window in TAIL_WINDOWS:
        start = max(0, size - window)
        tail = read_at(reader, start, size - start)
        at = len(tail)
        while (at := tail.rfind(_CLUSTER, 0, at)) >= 0:
            last = _last_block_ticks(tail, at + len(_CLUSTER))
            if last is not None:
                return last * tick_s + LAST_BLOCK_MARGIN_S
        if start == 0:
            break
    return None


def _vint(data: bytes, pos: int, strip_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``pos``: (value, next position); None if cut or invalid.
    IDs keep their length marker (0xE7 stays 0xE7), sizes drop it; all-ones is "unknown size"."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if pos + length > len(data):
        return None
    value = int.from_bytes(data[pos : pos + length], "big")
    if strip_marker:
        value &= (1 << (7 * length)) - 1
        if value == (1 << (7 * length)) - 1:
            value = -1  # unknown size: the element runs to the next cluster (live muxers)
    return value, pos + length


def _element(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(ID, payload start, payload size or -1) of the element at ``pos``."""
    ident = _vint(data, pos, strip_marker=False)
    if ident is None:
        return None
    size = _vint(data, ident[1], strip_marker=True)
    if size is None:
        return None
    return ident[0], size[1], size[0]


def _last_block_ticks(tail: bytes, pos: int) -> int | None:
    """Timestamp of the last block in the cluster whose size field starts at ``pos``."""
    size = _vint(tail, pos, strip_marker=True)
    if size is None:
        return None
    pos = size[1]
    first = _element(tail, pos)
    if first is None or first[0] != _TIMESTAMP or not 1 <= first[2] <= 8:
        return None
    cluster_ticks = int.from_bytes(tail[first[1] : first[1] + first[2]], "big")
    last = cluster_ticks
    pos = first[1] + first[2]
    while (found := _element(tail, pos)) is not None:
        ident, body, length = found
        if ident == _BLOCK_GROUP and length > 0:
            inner = _element(tail, body)
            if inner is not None and inner[0] == _BLOCK:
                ident, body = _BLOCK, inner[1]
        if ident in (_SIMPLE_BLOCK, _BLOCK):
            track = _vint(tail, body, strip_marker=True)
            if track is None or track[1] + 2 > len(tail):
                break
            offset = int.from_bytes(tail[track[1] : track[1] + 2], "big", signed=True)
            last = max(last, cluster_ticks + offset)
        if length < 0 or body + length > len(tail):
            break  # unknown size or cut by the end of the object: nothing after it to read
        pos = body + length
    return last
