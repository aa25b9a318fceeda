"""Write cues as SRT and WebVTT and a transcript as plain text (hand-written: the formats are tiny).

SRT: numbered blocks, ``HH:MM:SS,mmm``. WebVTT: ``WEBVTT`` header, ``HH:MM:SS.mmm``, and cue
text escaped because ``<`` and ``&`` start markup there. An empty transcript yields an empty
SRT and a header-only VTT, both valid files. Channels transcribed apart: the cues carry their
speaker's label (``pipeline.subtitles``) and the text has one paragraph per turn, "[Channel 1] ...".
Speakers named by a diarizer: SRT cues open with "[Speaker 1] ", WebVTT cues with the voice tag
``<v Speaker 1>`` (the label is markup there, not text), and the text has one paragraph per turn,
"[Speaker 1] ...".
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from pipeline.speakers import speaker_label
from pipeline.subtitles import Cue
from pipeline.transcript import Segment, TranscriptDocument
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


def _vtt_lines(cue: Cue) -> list[str]:
    """The cue's lines escaped; a diarized speaker's "[Speaker 1]" label becomes ``<v Speaker 1>``."""
    lines = [_vtt_escape(line) for line in cue.lines]
    if cue.speaker is None or cue.channel is not None:
        return lines
    name = speaker_label(cue.speaker)
    first = lines[0].removeprefix(f"[{name}]").lstrip()
    rest = lines[1:]
    if not first and rest:  # the label stood alone on the first line
        first, rest = rest[0], rest[1:]
    return [f"<v {name}>{first}", *rest]


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{timestamp(cue.start_ms, '.')} --> {timestamp(cue.end_ms, '.')}\n"
        + "\n".join(_vtt_lines(cue))
        + "\n"
        for cue in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks) if blocks else "WEBVTT\n"


def _speaker_of(segment: Segment) -> str | None:
    """The label a paragraph opens with: the channel when channels were split, else the speaker."""
    if segment.channel is not None:
        return channel_label(segment.channel)
    return speaker_label(segment.speaker) if segment.speaker is not None else None


def _paragraphs(transcript: TranscriptDocument) -> list[str]:
    """One paragraph per segment; with channels or speakers, one per turn (consecutive segments of one
    channel or speaker), labelled."""
    texts: list[str] = []
    speaker: str | None = None
    for segment in transcript.segments:
        text = segment.text.strip() or " ".join(w.word.strip() for w in segment.words).strip()
        if not text:
            continue
        label = _speaker_of(segment)
        if label is None:
            texts.append(text)
        elif texts and label == speaker:
            texts[-1] += " " + text
        else:
            texts.append(f"[{label}] {text}")
        speaker = label
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
