"""Read and validate the transcript document that gpu_job writes (pipeline.transcript.TranscriptDocument).

Validation is the pydantic model itself, the one definition that gpu_job is tested against and
that ``functions/pipeline/transcript.schema.json`` is generated from, so a drift between producer
and consumers fails loudly at the first consumer instead of producing wrong subtitles. A missing
or invalid transcript is an internal error (gpu_job exited 0 but broke the contract), never bad
input. pydantic validates the JSON bytes directly in Rust: a 20 h transcript (~200k words,
listed twice: per segment and flat) validates in about a second (tests/unit/test_common_helpers.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from pipeline.exact_upload import OUTPUT_ABSENT, error_code
from pipeline.s3uri import parse_s3_uri
from pipeline.transcript import TranscriptDocument

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


MAX_REPORTED_ERRORS = 5


class TranscriptInvalid(Exception):
    """transcript.json is missing, not JSON, or does not match the schema."""


def _problems(exc: ValidationError) -> str:
    details = [
        f"{'/'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:MAX_REPORTED_ERRORS]
    ]
    return "; ".join(details)


def validate_transcript(document: Any) -> TranscriptDocument:
    """A parsed document (dict) or the raw JSON bytes/str, as the model; TranscriptInvalid otherwise."""
    try:
        if isinstance(document, bytes | str):
            return TranscriptDocument.model_validate_json(document)
        return TranscriptDocument.model_validate(document)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise TranscriptInvalid(f"transcript is not JSON: {_problems(exc)}") from exc
        raise TranscriptInvalid(f"transcript does not match schema 1.0: {_problems(exc)}") from exc


def load_transcript(s3: S3Client, uri: str) -> TranscriptDocument:
    return read_transcript(s3, uri)[0]


def read_transcript(s3: S3Client, uri: str) -> tuple[TranscriptDocument, dict[str, str]]:
    """The document and the object's user metadata (which upload wrote it: pipeline.exact_upload)."""
    location = parse_s3_uri(uri)
    try:
        response = s3.get_object(Bucket=location.bucket, Key=location.key)
        body = response["Body"].read()
    except ClientError as exc:
        code = error_code(exc)
        # Without s3:ListBucket (least privilege), S3 answers a missing key with AccessDenied, not NoSuchKey.
        if code in OUTPUT_ABSENT:
            raise TranscriptInvalid(f"{uri} does not exist or is not readable ({code})") from exc
        raise
    try:
        return validate_transcript(body), dict(response.get("Metadata") or {})
    except TranscriptInvalid as exc:
        raise TranscriptInvalid(f"{uri}: {exc}") from exc
