"""Cut a transcript's word timestamps into subtitle cues.

Rules (common broadcast practice): at most 2 lines of 42 characters, at most 7 s on screen,
at least ~0.7 s where the next cue leaves room, no overlaps, starts in order. Cues never span
two transcript segments and are cut preferably after sentence ends, at pauses, then after
clause punctuation; words are never split except a single word longer than a line, which is
hard-wrapped into line-sized pieces. Times are handled in integer milliseconds so that rounding
can never create an overlap when the cues are written out.

Channels transcribed apart (``channel_mode.used`` split: segments carry ``channel``) are two
speakers who may talk at once: each channel's cues are cut on their own (no overlap within a
channel, so crosstalk does not shorten or shift the other speaker's cues), then merged by start
time, and every cue opens with its speaker's label, ``[Channel 1]``, counted in the line width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.transcript import Segment, TranscriptDocument, Word
from pipeline.types import channel_label

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_MS = 7000
MIN_CUE_MS = 700
PAUSE_MS = 600
# A cut moved back to punctuation must keep at least this share of the cue's characters.
MIN_BACKTRACK_SHARE = 0.4

_CLOSERS = "\"')]}»”’"
SENTENCE_END = ".?!…。？！"
CLAUSE_END = ",;:–—、，"


@dataclass(frozen=True)
class Token:
    """One word (or one piece of a hard-wrapped word) with its display time."""

    text: str
    start_ms: int
    end_ms: int
    joins_next: bool = False  # the next token continues this word: no space, no cut preference


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    tokens: tuple[Token, ...]
    channel: int | None = None  # the speaker's channel when channels were transcribed apart


def _ms(seconds: Any) -> int:
    try:
        return max(round(float(seconds) * 1000), 0)
    except (TypeError, ValueError):
        return 0


def _trailing(text: str) -> str:
    stripped = text.rstrip(_CLOSERS)
    return stripped[-1] if stripped else ""


def ends_sentence(token: Token) -> bool:
    return not token.joins_next and _trailing(token.text) in SENTENCE_END


def ends_clause(token: Token) -> bool:
    return not token.joins_next and _trailing(token.text) in (SENTENCE_END + CLAUSE_END)


def _split_time(start_ms: int, end_ms: int, weights: Sequence[int]) -> list[tuple[int, int]]:
    """Share [start, end] between parts in proportion to their lengths (used when splitting a word)."""
    total = sum(weights) or 1
    spans, done = [], 0
    for weight in weights:
        part_start = start_ms + (end_ms - start_ms) * done // total
        done += weight
        spans.append((part_start, start_ms + (end_ms - start_ms) * done // total))
    return spans


def _word_tokens(text: str, start_ms: int, end_ms: int) -> list[Token]:
    """Whitespace inside a "word" separates words; a word longer than a line is cut into line-sized pieces."""
    tokens: list[Token] = []
    words = text.split()
    for word, (w_start, w_end) in zip(
        words, _split_time(start_ms, end_ms, [len(w) for w in words]), strict=True
    ):
        pieces = [word[i : i + MAX_LINE_CHARS] for i in range(0, len(word), MAX_LINE_CHARS)]
        spans = _split_time(w_start, w_end, [len(p) for p in pieces])
        for index, (piece, (p_start, p_end)) in enumerate(zip(pieces, spans, strict=True)):
            tokens.append(Token(piece, p_start, p_end, joins_next=index < len(pieces) - 1))
    return tokens


def _segment_words(
    words: Sequence[Word], text: str, start_s: float, end_s: float
) -> list[tuple[str, int, int]]:
    """The segment's timed words; a segment with text but no word timings is shown from its text."""
    timed = [(w.word, _ms(w.start), _ms(w.end)) for w in words if w.word.strip()]
    if timed or not text.strip():
        return timed
    start, end = _ms(start_s), _ms(end_s)
    return [(text, start, max(end, start))]


def token_groups(transcript: TranscriptDocument) -> list[list[Token]]:
    """One token list per segment (cues never cross segments), times made monotonic."""
    if transcript.segments:
        return segment_token_groups(transcript.segments)
    return _monotonic([_segment_words(transcript.words, transcript.text, 0.0, 0.0)])


def segment_token_groups(segments: Sequence[Segment]) -> list[list[Token]]:
    return _monotonic([_segment_words(s.words, s.text, s.start, s.end) for s in segments])


def _monotonic(raw_groups: Sequence[Sequence[tuple[str, int, int]]]) -> list[list[Token]]:
    """Timestamps are trusted only as far as they are consistent: a start before the previous
    start is moved up to it and an end before its start is moved up to the start, so a glitch in
    the model output cannot produce overlapping or backwards cues."""
    groups: list[list[Token]] = []
    last_start = 0
    for raw in raw_groups:
        group: list[Token] = []
        for text, start, end in raw:
            start = max(start, last_start)
            end = max(end, start)
            pieces = _word_tokens(text, start, end)
            last_start = pieces[-1].start_ms if pieces else start  # a wrapped word's last piece starts later
            group.extend(pieces)
        if group:
            groups.append(group)
    return groups


def join_tokens(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for index, token in enumerate(tokens):
        parts.append(token.text)
        if index < len(tokens) - 1 and not token.joins_next:
            parts.append(" ")
    return "".join(parts)


def width(tokens: Sequence[Token]) -> int:
    """Characters of ``join_tokens(tokens)``, without building the string."""
    if not tokens:
        return 0
    return sum(len(t.text) for t in tokens) + sum(1 for t in tokens[:-1] if not t.joins_next)


def layout(tokens: Sequence[Token]) -> tuple[str, ...] | None:
    """Lines for these tokens, or None if they do not fit in MAX_LINES lines of MAX_LINE_CHARS.

    Two lines are balanced (the longer line as short as possible), preferring a break after
    punctuation when that costs at most a few characters of balance. Widths are computed
    arithmetically (this runs once per word of a transcript that may have 200k words).
    """
    total = width(tokens)
    if total <= MAX_LINE_CHARS:
        return (join_tokens(tokens),)
    if total > MAX_LINES * MAX_LINE_CHARS + 1:
        return None
    best_score: float | None = None
    best_cut = 0
    first = 0  # width of tokens[:cut]
    for cut in range(1, len(tokens)):
        before = tokens[cut - 1]
        first += len(before.text) + (0 if cut == 1 or tokens[cut - 2].joins_next else 1)
        second = total - first - (0 if before.joins_next else 1)
        if first > MAX_LINE_CHARS or second > MAX_LINE_CHARS:
            continue
        score = max(first, second) - (4 if ends_clause(before) else 0)
        if best_score is None or score < best_score:
            best_score, best_cut = score, cut
    if best_score is None:
        return None
    return (join_tokens(tokens[:best_cut]), join_tokens(tokens[best_cut:]))


def _breaks_before(current: Sequence[Token], token: Token) -> str | None:
    """Why ``token`` cannot join the cue being built (None if it can)."""
    if token.start_ms - current[-1].end_ms >= PAUSE_MS and not current[-1].joins_next:
        return "pause"
    if token.end_ms - current[0].start_ms > MAX_CUE_MS:
        return "duration"
    if layout([*current, token]) is None:
        return "layout"
    return None


def _backtrack(current: Sequence[Token]) -> int:
    """Where to cut a full cue: after the last punctuation that keeps enough of the cue, else at its end."""
    total = width(current)
    for cut in range(len(current) - 1, 0, -1):
        if ends_clause(current[cut - 1]) and width(current[:cut]) >= MIN_BACKTRACK_SHARE * total:
            return cut
    return len(current)


def group_tokens(tokens: Sequence[Token], label: str | None = None) -> list[list[Token]]:
    """Greedy grouping of one segment's tokens into cue-sized runs; with ``label``, every run opens
    with a label token (timed at the run's first word, so it changes no pause or duration rule)."""
    head = 1 if label else 0

    def opened(run: list[Token], first: Token) -> list[Token]:
        return [Token(label, first.start_ms, first.start_ms), *run] if label else run

    groups: list[list[Token]] = []
    current: list[Token] = []
    for index, token in enumerate(tokens):
        reason = _breaks_before(current, token) if len(current) > head else None
        if reason is not None:
            cut = len(current) if reason == "pause" else max(_backtrack(current), head + 1)
            groups.append(current[:cut])
            rest = current[cut:]
            current = opened(rest, rest[0]) if rest else []
            if len(current) > head and _breaks_before(current, token) is not None:
                groups.append(current)
                current = []
        if not current:
            current = opened([], token)
        current.append(token)
        is_last = index == len(tokens) - 1
        if not is_last and ends_sentence(token):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _timed(
    groups: Sequence[Sequence[Token]], end_limit_ms: int | None, channel: int | None = None
) -> list[Cue]:
    """Turn token runs into cues: min duration where the next cue allows, max duration, no overlap."""
    cues: list[Cue] = []
    for index, tokens in enumerate(groups):
        start = tokens[0].start_ms
        end = max(tokens[-1].end_ms, start + MIN_CUE_MS)
        end = min(end, start + MAX_CUE_MS)
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0].start_ms)
        elif end_limit_ms is not None:
            end = min(end, max(end_limit_ms, tokens[-1].end_ms))
        lines = layout(tokens)
        # Cannot happen (groups are built to fit): a guard so a bug fails loudly, not as bad subtitles.
        if lines is None:
            raise AssertionError(f"cue does not fit {MAX_LINES}x{MAX_LINE_CHARS}: {join_tokens(tokens)!r}")
        cues.append(Cue(start, max(end, start), lines, tuple(tokens), channel))
    return cues


def build_cues(transcript: TranscriptDocument, end_limit_s: float | None = None) -> list[Cue]:
    """All cues of a transcript; ``end_limit_s`` (default: media duration) bounds the last cue's end."""
    if end_limit_s is None:
        end_limit_s = transcript.media.duration_s
    end_limit_ms = _ms(end_limit_s)
    channels = sorted({s.channel for s in transcript.segments if s.channel is not None})
    if not channels:
        groups: list[list[Token]] = []
        for segment_tokens in token_groups(transcript):
            groups.extend(group_tokens(segment_tokens))
        return _timed(groups, end_limit_ms)
    cues: list[Cue] = []
    for channel in channels:
        label = f"[{channel_label(channel)}]"
        runs: list[list[Token]] = []
        for segment_tokens in segment_token_groups([s for s in transcript.segments if s.channel == channel]):
            runs.extend(group_tokens(segment_tokens, label))
        cues.extend(_timed(runs, end_limit_ms, channel))
    return sorted(cues, key=lambda cue: (cue.start_ms, cue.channel))
