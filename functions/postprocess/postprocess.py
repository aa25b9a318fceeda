"""Postprocess state: turn transcript.json into subtitle, text and table files next to it.

transcript.json is read here and only here: what Index needs of it travels on as the
TranscriptSummary, so a 24 h transcript (tens of MB) is parsed once per execution.

Exact bytes: transcript.json must be this upload's (its owner metadata, else its ``source.etag``);
every file is written with ``pipeline.exact_upload.put_owned``, i.e. only while the input key still
holds this upload, conditionally on the output's ETag, so an older upload's execution that
finishes last cannot overwrite the newer upload's files: it ends SUPERSEDED instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.catalog import utc_now_iso
from pipeline.contracts import (
    Outputs,
    PostprocessRequest,
    PostprocessResult,
    TranscriptSummary,
    UploadedObject,
)
from pipeline.exact_upload import (
    ERROR_JSON,
    OUTPUT_ABSENT,
    TRANSCRIPT_JSON,
    TRANSCRIPT_SRT,
    TRANSCRIPT_TXT,
    TRANSCRIPT_VTT,
    ensure_current,
    error_code,
    output_file,
    owned_by,
    put_owned,
    segments_uri,
)
from pipeline.formats import to_srt, to_text, to_vtt
from pipeline.s3uri import parse_s3_uri
from pipeline.segments import segment_rows, to_jsonl
from pipeline.subtitles import build_cues
from pipeline.transcript import TranscriptDocument, low_confidence_share
from pipeline.transcript_reader import TranscriptInvalid, read_transcript

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


CONTENT_TYPES = {
    TRANSCRIPT_SRT: "application/x-subrip; charset=utf-8",
    TRANSCRIPT_VTT: "text/vtt; charset=utf-8",
    TRANSCRIPT_TXT: "text/plain; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


def _put(s3: S3Client, source: UploadedObject, uri: str, text: str, content_type: str) -> str:
    location = parse_s3_uri(uri)
    put_owned(s3, source, location.bucket, location.key, text.encode("utf-8"), content_type)
    return uri


def own_transcript(s3: S3Client, source: UploadedObject, uri: str) -> TranscriptDocument:
    """transcript.json, checked to be this upload's words.

    Another upload's transcript there means this one was superseded (SourceSuperseded) when the key
    no longer holds this upload; if it still does, the document is wrong (TranscriptInvalid, internal).
    """
    transcript, metadata = read_transcript(s3, uri)
    mine = owned_by(metadata, source)
    if mine is None:  # written without owner metadata: its own source field says whose it is
        etag = transcript.source.etag
        mine = etag is None or source.if_match_etag is None or etag.strip('"') == source.etag
    if not mine:
        ensure_current(s3, source)
        raise TranscriptInvalid(f"{uri} holds another upload's transcript ({metadata or transcript.source})")
    return transcript


def render(source: UploadedObject, transcript: TranscriptDocument, transcribed_at: str) -> dict[str, str]:
    """The four derived files' contents, keyed by name (pure, for tests and re-rendering)."""
    cues = build_cues(transcript)
    return {
        TRANSCRIPT_SRT: to_srt(cues),
        TRANSCRIPT_VTT: to_vtt(cues),
        TRANSCRIPT_TXT: to_text(transcript),
        "jsonl": to_jsonl(segment_rows(source, transcript, transcribed_at)),
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
        low_confidence_share=low_confidence_share([w.confidence for w in transcript.words]),
        channel_mode_used=transcript.channel_mode.used if transcript.channel_mode else None,
        speaker_count=transcript.speakers.count
        if transcript.speakers and transcript.speakers.used != "off"
        else None,
        warnings=list(transcript.warnings),
        redacted_entities=dict(transcript.redaction.entities) if transcript.redaction else None,
    )


def postprocess(s3: S3Client, request: PostprocessRequest, output_bucket: str | None) -> PostprocessResult:
    """Read, validate, render, write; the segments file goes to OUTPUT_BUCKET (else the prefix's bucket).

    ``transcribed_at`` is taken before any write: a newer upload of the key can only be written after
    this execution's ownership check of its first write, so its ``transcribed_at`` is later and search
    keeps its rows, not these (functions/pipeline/segments.py)."""
    source, prefix = request.source, request.plan.request.output_prefix
    transcript_uri = output_file(prefix, TRANSCRIPT_JSON)
    transcript = own_transcript(s3, source, transcript_uri)
    transcribed_at = utc_now_iso()
    files = render(source, transcript, transcribed_at)
    bucket = output_bucket or parse_s3_uri(prefix).bucket
    written = {
        field: _put(s3, source, output_file(prefix, name), files[name], CONTENT_TYPES[name])
        for name, field in ((TRANSCRIPT_SRT, "srt"), (TRANSCRIPT_VTT, "vtt"), (TRANSCRIPT_TXT, "txt"))
    }
    segments = segments_uri(bucket, source.key, transcribed_at)
    outputs = Outputs(
        transcript_json=transcript_uri,
        segments_jsonl=_put(s3, source, segments, files["jsonl"], CONTENT_TYPES["jsonl"]),
        **written,
    )
    remove_stale_error(s3, source, output_file(prefix, ERROR_JSON))
    return PostprocessResult(outputs=outputs, summary=summarize(transcript))


def remove_stale_error(s3: S3Client, source: UploadedObject, uri: str) -> None:
    """An earlier upload of the key that was bad input left ``error.json`` in the prefix this upload now
    fills: remove it, so the prefix holds only this upload's outputs. Only after checking that the key
    still holds this upload (a newer one may be writing its own error.json there)."""
    location = parse_s3_uri(uri)
    try:
        s3.head_object(Bucket=location.bucket, Key=location.key)
    except Exception as exc:
        if error_code(exc) in OUTPUT_ABSENT:
            return
        raise
    ensure_current(s3, source)
    s3.delete_object(Bucket=location.bucket, Key=location.key)
