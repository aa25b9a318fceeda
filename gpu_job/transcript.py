"""Build the versioned transcript document (functions/pipeline/transcript.schema.json, v1.1).

Segments are derived from the words, never decoded separately, so they always agree: a segment ends
after sentence punctuation, before a pause longer than `PAUSE_S`, when it would exceed
`MAX_SEGMENT_S`, or at a speaker turn (the next word has another `speaker`, gpu_job.speakers).
Times are seconds with millisecond precision, relative to the start of the file, clamped so that
they are monotonic and within [0, duration]. Words carry the decoder's confidence
(gpu_job.confidence) and segments their words' mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.speakers import speaker_label
from pipeline.transcript import SCHEMA_VERSION
from pipeline.types import channel_label

from gpu_job import confidence
from gpu_job.engine.tokens import DecodedWord
from gpu_job.language import detect_document, outside_warnings

PAUSE_S = 0.8
MAX_SEGMENT_S = 15.0
SENTENCE_END = (".", "?", "!", "…", "。", "？", "！", ";")


@dataclass
class PhaseSeconds:
    """The job's running clock per phase, added to as the job goes; `as_dict` is the contract's
    pipeline.transcript.Timings (plus `vad`, which the document allows as an extra)."""

    download: float = 0.0
    decode: float = 0.0
    vad: float = 0.0  # batched mode: voice-activity detection and window cutting
    load: float = 0.0
    inference: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(max(0.0, v), 3) for k, v in self.__dict__.items()}


def normalise_words(words: list[DecodedWord], duration_s: float) -> list[dict[str, Any]]:
    """Round to ms, keep starts non-decreasing and ends within [start, duration].

    TDT end times are the last token's frame plus its predicted duration, which can reach past the final
    (partial) encoder frame; that tail is clamped to the decoded duration. Starts are not clamped: a start
    past the end of the audio is a bug worth seeing, not hiding.
    """
    out: list[dict[str, Any]] = []
    previous_start = 0.0
    for w in words:
        start = max(round(w.start, 3), previous_start)
        end = max(min(round(w.end, 3), round(duration_s, 3)), start)
        word: dict[str, Any] = {"start": start, "end": end, "word": w.word}
        if w.confidence is not None:
            word["confidence"] = round(w.confidence, 4)
        out.append(word)
        previous_start = start
    return out


def merge_channels(channel_words: dict[int | None, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Normalised words of each channel (key None: one signal) as one list by start time; a split
    transcript's words carry their `channel`."""
    merged: list[dict[str, Any]] = []
    for channel, words in channel_words.items():
        merged += words if channel is None else [{**w, "channel": channel} for w in words]
    return sorted(merged, key=lambda w: (w["start"], w.get("channel") or 0))


def split_segments(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Segments of one channel's words (or of the one signal's); see `channel_segments` for several."""
    segments: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []

    def close() -> None:
        if current:
            segment = {
                "id": len(segments),
                "start": current[0]["start"],
                "end": max(w["end"] for w in current),
                "text": " ".join(w["word"] for w in current),
                "words": list(current),
            }
            if current[0].get("speaker") is not None:
                segment["speaker"] = current[0]["speaker"]
            mean = confidence.mean([w.get("confidence") for w in current])
            if mean is not None:
                segment["confidence"] = mean
            segments.append(segment)
            current.clear()

    for word in words:
        if current:
            pause = word["start"] - current[-1]["end"]
            too_long = word["end"] - current[0]["start"] > MAX_SEGMENT_S
            turn = word.get("speaker") != current[-1].get("speaker")
            if pause > PAUSE_S or too_long or turn:
                close()
        current.append(word)
        if word["word"].endswith(SENTENCE_END):
            close()
    close()
    return segments


def channel_segments(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Segments cut per channel (a segment never mixes two speakers), merged by start time, numbered
    again; each carries `channel` (None for a transcript of one signal)."""
    channels = sorted({w.get("channel") for w in words}, key=lambda c: -1 if c is None else c)
    segments = []
    for channel in channels:
        for segment in split_segments([w for w in words if w.get("channel") == channel]):
            segments.append({**segment, "channel": channel})
    segments.sort(key=lambda s: (s["start"], -1 if s["channel"] is None else s["channel"]))
    for number, segment in enumerate(segments):
        segment["id"] = number
    return segments


def document_text(segments: list[dict[str, Any]]) -> str:
    """The segments' text; when channels were transcribed apart, one line per turn, "[Channel 1] ...";
    when a diarizer named the speakers, one line per turn, "[Speaker 1] ..."."""
    if all(s.get("channel") is None and s.get("speaker") is None for s in segments):
        return " ".join(s["text"] for s in segments)
    lines: list[str] = []
    for segment in segments:
        if segment.get("channel") is not None:
            label = f"[{channel_label(segment['channel'])}]"
        elif segment.get("speaker") is not None:
            label = f"[{speaker_label(segment['speaker'])}]"
        else:
            label = ""
        if lines and lines[-1].startswith(label + " "):
            lines[-1] += " " + segment["text"]
        else:
            lines.append(f"{label} {segment['text']}")
    return "\n".join(lines)


def build_document(
    *,
    source: dict[str, Any],
    media: dict[str, Any],
    model: dict[str, Any],
    mode: str,
    chunking: dict[str, Any] | None,
    words: list[dict[str, Any]],
    timings: PhaseSeconds,
    hardware: dict[str, Any],
    expected_languages: list[str] | None = None,
    speakers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`expected_languages`: language ID chooses among these only; text that reads as another language
    keeps it and is named in `warnings` (gpu_job.language.detect_expected). `words` carry `speaker`
    already when speakers were determined (gpu_job.speakers.assign_speakers); `speakers` is the
    document's account of how (pipeline.transcript.SpeakersInfo)."""
    segments = channel_segments(words)
    # Per segment and per document, from the text (the model reports no language): gpu_job.language.
    languages = detect_document([s["text"] for s in segments], expected=tuple(expected_languages or ()))
    for segment, guess in zip(segments, languages.segments, strict=True):
        segment.update(guess.segment_fields())
    return {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "media": media,
        "model": model,
        "mode": mode,
        "chunking": chunking,
        **languages.document_fields(),
        "text": document_text(segments),
        "segments": segments,
        "words": words,
        "timings": timings.as_dict(),
        "hardware": hardware,
        **({"speakers": speakers} if speakers is not None else {}),
        "warnings": outside_warnings(languages, segments),
    }
