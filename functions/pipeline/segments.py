"""Rows of the Athena/Glue ``segments`` table: one JSON object per line per transcript segment.

Times are ``start_s``/``end_s`` (not ``start``/``end``: END is a reserved word in Athena SQL and
DDL, and the suffix states the unit like ``duration_s`` elsewhere). ``channel`` is the 0-based
channel that spoke (null unless the channels were transcribed apart) and ``speaker`` the 0-based
speaker (the diarizer's, or the channel of a split transcript; null when not determined), so a query
can ask who said it.
``confidence`` is the segment's mean word confidence (null when the job ran without confidence), so
a query can keep only what the model was sure of.

``transcribed_at`` (ISO-8601 UTC, milliseconds, ``Z``: it sorts as text) says which upload of a key
the rows belong to: a key overwritten on a later day leaves the older upload's file in an older
``dt=`` folder (pipeline.exact_upload.segments_uri), so a reader keeps, per ``source_uri``, only the rows of
the newest ``transcribed_at`` (parakeet_cli/sql/search_segments.sql). ``dt``, the partition, is the
file's folder, not a column of the file.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.contracts import UploadedObject
from pipeline.transcript import TranscriptDocument

COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_uri", "string"),
    ("etag", "string"),
    ("segment_id", "int"),
    ("start_s", "double"),
    ("end_s", "double"),
    ("text", "string"),
    ("channel", "int"),
    ("speaker", "int"),
    ("language", "string"),
    ("confidence", "double"),
    ("mode", "string"),
    ("model", "string"),
    ("transcribed_at", "string"),
)


def segment_rows(
    source: UploadedObject, transcript: TranscriptDocument, transcribed_at: str
) -> list[dict[str, Any]]:
    """Identity comes from the workflow's source (authoritative), content from the transcript."""
    return [
        {
            "source_uri": source.uri,
            "etag": source.etag,
            "segment_id": segment.id,
            "start_s": segment.start,
            "end_s": segment.end,
            "text": segment.text,
            "channel": segment.channel,
            "speaker": segment.speaker,
            "language": transcript.language,
            "confidence": segment.confidence,
            "mode": transcript.mode,
            "model": transcript.model.name,
            "transcribed_at": transcribed_at,
        }
        for segment in transcript.segments
    ]


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)
