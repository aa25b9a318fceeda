"""Build the versioned transcript document (functions/common/transcript.schema.json, v1.0).

Segments are derived from the words, never decoded separately, so they always agree: a segment ends
after sentence punctuation, before a pause longer than `PAUSE_S`, or when it would exceed
`MAX_SEGMENT_S`. Times are seconds with millisecond precision, relative to the start of the file,
clamped so that they are monotonic and within [0, duration].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpu_job.language import detect_document
from gpu_job.tokens import Word

SCHEMA_VERSION = "1.0"
PAUSE_S = 0.8
MAX_SEGMENT_S = 15.0
SENTENCE_END = (".", "?", "!", "…", "。", "？", "！", ";")


@dataclass
class Timings:
    download: float = 0.0
    decode: float = 0.0
    vad: float = 0.0  # batched mode: voice-activity detection and window cutting
    load: float = 0.0
    inference: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(max(0.0, v), 3) for k, v in self.__dict__.items()}


def normalise_words(words: list[Word], duration_s: float) -> list[dict[str, Any]]:
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
        out.append({"start": start, "end": end, "word": w.word})
        previous_start = start
    return out


def split_segments(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    segments: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []

    def close() -> None:
        if current:
            segments.append(
                {
                    "id": len(segments),
                    "start": current[0]["start"],
                    "end": max(w["end"] for w in current),
                    "text": " ".join(w["word"] for w in current),
                    "words": list(current),
                }
            )
            current.clear()

    for word in words:
        if current:
            pause = word["start"] - current[-1]["end"]
            too_long = word["end"] - current[0]["start"] > MAX_SEGMENT_S
            if pause > PAUSE_S or too_long:
                close()
        current.append(word)
        if word["word"].endswith(SENTENCE_END):
            close()
    close()
    return segments


def build_document(
    *,
    source: dict[str, Any],
    media: dict[str, Any],
    model: dict[str, Any],
    mode: str,
    chunking: dict[str, Any] | None,
    words: list[dict[str, Any]],
    timings: Timings,
    hardware: dict[str, Any],
) -> dict[str, Any]:
    segments = split_segments(words)
    # Per segment and per document, from the text (the model reports no language): gpu_job.language.
    languages = detect_document([s["text"] for s in segments])
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
        "text": " ".join(s["text"] for s in segments),
        "segments": segments,
        "words": words,
        "timings": timings.as_dict(),
        "hardware": hardware,
    }
