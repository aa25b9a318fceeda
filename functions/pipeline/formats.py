"""Write cues as SRT and WebVTT and a transcript as plain text (hand-written: the formats are tiny).

SRT: numbered blocks, ``HH:MM:SS,mmm``. WebVTT: ``WEBVTT`` header, ``HH:MM:SS.mmm``, and cue
text escaped because ``<`` and ``&`` start markup there. An empty transcript yields an empty
SRT and a header-only VTT, both valid files. Channels transcribed apart: the cues carry their
speaker's label (``pipeline.subtitles``) and the text has one paragraph per turn, "[Channel 1] ...".
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from pipeline.subtitles import Cue
from pipeline.transcript import TranscriptDocument
from pipeline.types import channel_label

TEXT_WIDTH = 80


def timestamp(ms: int, separator: str) -> str:
    hours, rest = divmod(max(ms, 0), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{number}\n{timestamp(cue.start_ms, ',')} --> {timestamp(cue.end_ms, ',')}\n"
        + "\n".join(cue.lines)
        + "\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{timestamp(cue.start_ms, '.')} --> {timestamp(cue.end_ms, '.')}\n"
        + "\n".join(_vtt_escape(line) for line in cue.lines)
        + "\n"
        for cue in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks) if blocks else "WEBVTT\n"


def _paragraphs(transcript: TranscriptDocument) -> list[str]:
    """One paragraph per segment; with channels, one per turn (consecutive segments of one channel)."""
    texts: list[str] = []
    speaker: int | None = None
    for segment in transcript.segments:
        text = segment.text.strip() or " ".join(w.word.strip() for w in segment.words).strip()
        if not text:
            continue
        if segment.channel is None:
            texts.append(text)
        elif texts and segment.channel == speaker:
            texts[-1] += " " + text
        else:
            texts.append(f"[{channel_label(segment.channel)}] {text}")
        speaker = segment.channel
    if not transcript.segments and transcript.text.strip():
        texts.append(transcript.text.strip())
    return texts


def to_text(transcript: TranscriptDocument, width: int = TEXT_WIDTH) -> str:
    """One paragraph per segment, wrapped at ``width`` without breaking words or hyphenations."""
    wrapped = [
        textwrap.fill(" ".join(p.split()), width=width, break_long_words=False, break_on_hyphens=False)
        for p in _paragraphs(transcript)
    ]
    return "\n\n".join(wrapped) + "\n" if wrapped else ""
