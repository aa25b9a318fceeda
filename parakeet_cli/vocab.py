"""`parakeet vocab put|list|show`: the stack's custom vocabularies (docs/VOCABULARY.md).

A vocabulary is ``s3://<OutputBucket>/vocabularies/<name>.txt``. `put` checks a file with the same rule
the Probe applies (pipeline.vocabulary: syntax and the default limits; the stack checks its own limits
again) before it writes it, so a typo fails here and not on the next upload. The bytes are stored as
given (comments kept). Uploads pick a vocabulary by tag ``vocabulary=<name>``, VocabularyByPrefix or the
stack's Vocabulary parameter; a new `put` applies to uploads probed after it (each upload pins the
version it read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.exact_upload import error_code
from pipeline.outcomes import BadInputError
from pipeline.settings import Settings
from pipeline.vocabulary import (
    VOCABULARY_GONE,
    VOCABULARY_PREFIX,
    name_from_key,
    parse,
    vocabulary_key,
)

from parakeet_cli.connect import Stack
from parakeet_cli.exits import NotFound, UsageError


def _check(body: bytes, name: str) -> tuple[Any, ...]:
    try:
        return parse(body, name, Settings.from_env())
    except BadInputError as exc:
        raise UsageError(f"{type(exc).__name__}: {exc}") from None


def put(stack: Stack, name: str, path: Path) -> dict[str, Any]:
    """Check `path` and store it as vocabulary `name`; what was stored (ETag, VersionId, phrases)."""
    if not path.is_file():
        raise NotFound(f"no such file {path}", path=str(path))
    try:
        key = vocabulary_key(name)
    except BadInputError as exc:
        raise UsageError(str(exc)) from None
    body = path.read_bytes()
    phrases = _check(body, name)
    bucket = stack.names.output_bucket
    response = stack.client("s3").put_object(
        Bucket=bucket, Key=key, Body=body, ContentType="text/plain; charset=utf-8"
    )
    return {
        "name": name,
        "uri": f"s3://{bucket}/{key}",
        "etag": str(response.get("ETag", "")).strip('"'),
        "version_id": response.get("VersionId"),
        "phrases": len(phrases),
    }


def list_all(stack: Stack) -> dict[str, Any]:
    """Every vocabulary of the stack: name, size, last change."""
    s3 = stack.client("s3")
    bucket = stack.names.output_bucket
    items = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=VOCABULARY_PREFIX):
        for obj in page.get("Contents", []):
            name = name_from_key(obj["Key"])
            if name is not None:
                items.append(
                    {
                        "name": name,
                        "uri": f"s3://{bucket}/{obj['Key']}",
                        "size": obj["Size"],
                        "last_modified": obj["LastModified"].isoformat(),
                    }
                )
    return {"bucket": bucket, "vocabularies": sorted(items, key=lambda item: item["name"])}


def show(stack: Stack, name: str, version_id: str | None = None) -> dict[str, Any]:
    """One vocabulary (its current version, or `version_id`): its phrases and weights as parsed."""
    try:
        key = vocabulary_key(name)
    except BadInputError as exc:
        raise UsageError(str(exc)) from None
    bucket = stack.names.output_bucket
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    try:
        response = stack.client("s3").get_object(**params)
    except Exception as exc:
        if error_code(exc) in VOCABULARY_GONE:
            raise NotFound(f"no vocabulary {name!r} (s3://{bucket}/{key})", name=name) from None
        raise
    phrases = _check(response["Body"].read(), name)
    return {
        "name": name,
        "uri": f"s3://{bucket}/{key}",
        "etag": str(response.get("ETag", "")).strip('"'),
        "version_id": response.get("VersionId"),
        "phrases": [{"text": p.text, "weight": p.weight} for p in phrases],
    }
