"""Read and validate the transcript document that gpu_job writes (functions/common/transcript.schema.json).

Validation uses ``jsonschema`` against the same schema gpu_job is tested with, so a drift between
producer and consumers fails loudly at the first consumer instead of producing wrong subtitles.
A missing or invalid transcript is an internal error (gpu_job exited 0 but broke the contract),
never bad input.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from common.s3uri import parse_s3_uri

SCHEMA_PATH = Path(__file__).with_name("transcript.schema.json")


class TranscriptInvalid(Exception):
    """transcript.json is missing, not JSON, or does not match the schema."""


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def validate_transcript(document: Any) -> dict[str, Any]:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:5]
        )
        raise TranscriptInvalid(f"transcript does not match schema 1.0 ({len(errors)} errors): {details}")
    return document


def load_transcript(s3: Any, uri: str) -> dict[str, Any]:
    location = parse_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
    except s3.exceptions.NoSuchKey as exc:
        raise TranscriptInvalid(f"{uri} does not exist") from exc
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise TranscriptInvalid(f"{uri} is not JSON: {exc}") from exc
    return validate_transcript(document)
