"""Who said each word: assign diarizer speaker turns to the ASR words (docs/SPEAKERS.md).

Rules, in the order they apply to one word (times in seconds, a word [start, end]):

1. Channels transcribed apart (``channel_mode.used`` split): the word's ``channel`` *is* its speaker
   (``speaker = channel``); no diarizer is consulted.
2. Maximal overlap: the word gets the speaker whose activity (the union of that speaker's turns)
   overlaps it longest. A tie goes to the speaker whose turn starts first (then the lower number),
   so the result never depends on the order the diarizer listed its turns in. A zero-length word
   (start == end) counts as overlapping every turn that contains its instant.
3. Silence: a word that overlaps no turn (the diarizer heard a pause, or the ASR timing runs past
   the turn) gets the speaker of the nearest turn, by the gap between the word and the turn; a tie
   goes to the turn before the word (a speaker trails off more often than they start early).
4. Overlapped speech: when two or more speakers are active *at the same time* for at least
   ``OVERLAP_SHARE`` of the word's duration (a zero-length word: at its instant), the word keeps the
   rule-2 speaker and is marked ``overlap: true`` (its other speakers are not listed: one word has
   one speaker in every output). A clean turn change inside a word is not overlap. Words are never
   split.
5. No turns at all (diarization off, or nothing heard): words get no ``speaker``.

Speakers are renumbered 0, 1, ... in the order they first speak in the words, so "Speaker 1" is
always the first voice of the transcript, whatever the diarizer's internal slot order was.
Pure functions on plain data; nothing here imports torch or NeMo.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

# Rule 4: another speaker active for this share of a word's duration marks the word overlapped.
OVERLAP_SHARE = 0.3


@dataclass(frozen=True, order=True)
class SpeakerTurn:
    """One stretch of one speaker's activity, as a diarizer reports it (turns of different speakers
    may overlap; turns of one speaker may too, they are united)."""

    start: float
    end: float
    speaker: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"turn ends before it starts: {self}")


def _overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    return max(0.0, min(a_end, b_end) - max(a_start, b_start))


def _covers(turn: SpeakerTurn, start: float, end: float) -> float:
    """How much of [start, end] the turn covers; a zero-length word is covered (1.0) or not (0.0)."""
    if end <= start:
        return 1.0 if turn.start <= start <= turn.end else 0.0
    return _overlap(turn.start, turn.end, start, end)


def _union_coverage(turns: Iterable[SpeakerTurn], start: float, end: float) -> float:
    """Coverage of [start, end] by the union of one speaker's turns (overlapping turns count once)."""
    if end <= start:
        return max((_covers(t, start, end) for t in turns), default=0.0)
    spans = sorted((max(t.start, start), min(t.end, end)) for t in turns if t.end > start and t.start < end)
    covered, reach = 0.0, start
    for s, e in spans:
        s = max(s, reach)
        if e > s:
            covered += e - s
            reach = e
    return covered


def _gap(turn: SpeakerTurn, start: float, end: float) -> float:
    if turn.end < start:
        return start - turn.end
    if turn.start > end:
        return turn.start - end
    return 0.0


def speaker_of(start: float, end: float, turns: Sequence[SpeakerTurn]) -> tuple[int, bool] | None:
    """(speaker, overlapped) for one word by rules 2-4, or None when there are no turns (rule 5)."""
    if not turns:
        return None
    by_speaker: dict[int, list[SpeakerTurn]] = {}
    for turn in sorted(turns):
        by_speaker.setdefault(turn.speaker, []).append(turn)
    coverage = {speaker: _union_coverage(ts, start, end) for speaker, ts in by_speaker.items()}
    first_start = {speaker: ts[0].start for speaker, ts in by_speaker.items()}
    best = max(coverage, key=lambda s: (coverage[s], -first_start[s], -s))
    if coverage[best] <= 0.0:
        # Rule 3: nearest turn; equal gaps prefer the turn before the word, then the lower speaker.
        nearest = min(turns, key=lambda t: (_gap(t, start, end), t.start > end, t.speaker))
        return nearest.speaker, False
    return best, _crosstalk(by_speaker, start, end) >= (OVERLAP_SHARE * (end - start) if end > start else 1.0)


def _crosstalk(by_speaker: dict[int, list[SpeakerTurn]], start: float, end: float) -> float:
    """Time within [start, end] during which two or more speakers are active (zero-length: 1.0 if so)."""
    if end <= start:
        active = sum(1 for ts in by_speaker.values() if any(t.start <= start <= t.end for t in ts))
        return 1.0 if active >= 2 else 0.0
    edges = sorted(
        {
            start,
            end,
            *(x for ts in by_speaker.values() for t in ts for x in (t.start, t.end) if start < x < end),
        }
    )
    shared = 0.0
    for left, right in pairwise(edges):
        middle = (left + right) / 2
        active = sum(1 for ts in by_speaker.values() if any(t.start <= middle <= t.end for t in ts))
        if active >= 2:
            shared += right - left
    return shared


def assign_speakers(words: list[dict[str, Any]], turns: Sequence[SpeakerTurn]) -> list[dict[str, Any]]:
    """New word dicts carrying ``speaker`` (0-based, numbered by first appearance) and, for
    overlapped speech, ``overlap: True``. Words of a channel-split transcript take their channel
    (rule 1); with no turns and no channels the words come back unchanged (rule 5)."""
    if any(w.get("channel") is not None for w in words):
        return [{**w, "speaker": w["channel"]} if w.get("channel") is not None else dict(w) for w in words]
    if not turns:
        return [dict(w) for w in words]
    raw: list[tuple[int, bool]] = []
    for word in words:
        found = speaker_of(float(word["start"]), float(word["end"]), turns)
        assert found is not None  # turns is not empty
        raw.append(found)
    numbering: dict[int, int] = {}
    for speaker, _ in raw:
        numbering.setdefault(speaker, len(numbering))
    out: list[dict[str, Any]] = []
    for word, (speaker, overlapped) in zip(words, raw, strict=True):
        fields = {**word, "speaker": numbering[speaker]}
        if overlapped:
            fields["overlap"] = True
        out.append(fields)
    return out


def speaker_count(words: Iterable[dict[str, Any]]) -> int:
    """Distinct speakers among the words (0 when none carries a speaker)."""
    return len({w["speaker"] for w in words if w.get("speaker") is not None})
