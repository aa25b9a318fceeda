"""Postprocess state: turn transcript.json into subtitle, text and table files next to it.

transcript.json is read here and only here: what Index needs of it travels on as the
TranscriptSummary, so a 24 h transcript (tens of MB) is parsed once per execution.
"""

from __future__ import annotations

from typing import Any

from common.layout import (
    TRANSCRIPT_JSON,
    TRANSCRIPT_SRT,
    TRANSCRIPT_TXT,
    TRANSCRIPT_VTT,
    output_file,
    segments_uri,
)
from common.s3uri import parse_s3_uri
from common.transcript import load_transcript
from contracts.models import (
    Outputs,
    PostprocessRequest,
    PostprocessResult,
    TranscriptDocument,
    TranscriptSummary,
    UploadedObject,
)

from postprocess.formats import to_srt, to_text, to_vtt
from postprocess.segments import segment_rows, to_jsonl
from postprocess.subtitles import build_cues

CONTENT_TYPES = {
    TRANSCRIPT_SRT: "application/x-subrip; charset=utf-8",
    TRANSCRIPT_VTT: "text/vtt; charset=utf-8",
    TRANSCRIPT_TXT: "text/plain; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


def _put(s3: Any, uri: str, text: str, content_type: str) -> str:
    location = parse_s3_uri(uri)
    s3.put_object(
        Bucket=location.bucket, Key=location.key, Body=text.encode("utf-8"), ContentType=content_type
    )
    return uri


def render(source: UploadedObject, transcript: TranscriptDocument) -> dict[str, str]:
    """The four derived files' contents, keyed by name (pure, for tests and re-rendering)."""
    cues = build_cues(transcript)
    return {
        TRANSCRIPT_SRT: to_srt(cues),
        TRANSCRIPT_VTT: to_vtt(cues),
        TRANSCRIPT_TXT: to_text(transcript),
        "jsonl": to_jsonl(segment_rows(source, transcript)),
    }


def summarize(transcript: TranscriptDocument) -> TranscriptSummary:
    return TranscriptSummary(
        language=transcript.language,
        duration_s=transcript.media.duration_s,
        mode=transcript.mode,
        model=transcript.model,
        hardware=transcript.hardware,
        timings=transcript.timings,
        word_count=len(transcript.words),
    )


def postprocess(s3: Any, request: PostprocessRequest, output_bucket: str | None) -> PostprocessResult:
    """Read, validate, render, write; the segments file goes to OUTPUT_BUCKET (else the prefix's bucket)."""
    source, prefix = request.source, request.plan.request.output_prefix
    transcript_uri = output_file(prefix, TRANSCRIPT_JSON)
    transcript = load_transcript(s3, transcript_uri)
    files = render(source, transcript)
    bucket = output_bucket or parse_s3_uri(prefix).bucket
    written = {
        field: _put(s3, output_file(prefix, name), files[name], CONTENT_TYPES[name])
        for name, field in ((TRANSCRIPT_SRT, "srt"), (TRANSCRIPT_VTT, "vtt"), (TRANSCRIPT_TXT, "txt"))
    }
    outputs = Outputs(
        transcript_json=transcript_uri,
        segments_jsonl=_put(s3, segments_uri(bucket, source.key), files["jsonl"], CONTENT_TYPES["jsonl"]),
        **written,
    )
    return PostprocessResult(outputs=outputs, summary=summarize(transcript))
