"""Read and validate the transcript document that gpu_job writes (functions/common/transcript.schema.json).

Validation uses ``jsonschema`` against the same schema gpu_job is tested with, so a drift between
producer and consumers fails loudly at the first consumer instead of producing wrong subtitles.
A missing or invalid transcript is an internal error (gpu_job exited 0 but broke the contract),
never bad input.

Word lists are the bulk of a long transcript (a 20 h file has ~200k words, twice: per segment
and flat) and jsonschema needs ~50 us per object, i.e. tens of seconds. So the document is
validated by jsonschema with word items left open, and each word is then checked by a tight loop
driven by the schema's own ``$defs/word`` (required keys, number/string types, minimums): the
schema stays the single source of truth and a 20 h transcript validates in about a second.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from jsonschema import Draft202012Validator

from common.s3uri import parse_s3_uri

SCHEMA_PATH = Path(__file__).with_name("transcript.schema.json")
WORD_REF = "#/$defs/word"
MAX_REPORTED_ERRORS = 5


class TranscriptInvalid(Exception):
    """transcript.json is missing, not JSON, or does not match the schema."""


@dataclass(frozen=True)
class _WordRules:
    required: tuple[str, ...]
    numbers: dict[str, float | None]  # property -> minimum (None: no minimum)
    strings: tuple[str, ...]


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _open_word_refs(node: Any) -> Any:
    """The schema with every ``{"$ref": "#/$defs/word"}`` replaced by an always-valid ``{}``."""
    if isinstance(node, dict):
        if node.get("$ref") == WORD_REF:
            return {}
        return {k: _open_word_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_open_word_refs(v) for v in node]
    return node


@cache
def _skeleton_validator() -> Draft202012Validator:
    return Draft202012Validator(_open_word_refs(copy.deepcopy(_schema())))


@cache
def _word_rules() -> _WordRules:
    word = _schema()["$defs"]["word"]
    props = word.get("properties", {})
    numbers = {name: p.get("minimum") for name, p in props.items() if p.get("type") == "number"}
    strings = tuple(name for name, p in props.items() if p.get("type") == "string")
    unsupported = set(props) - set(numbers) - set(strings)
    if unsupported:  # the fast path only knows flat number/string properties; fail loudly if the schema grows
        raise RuntimeError(f"transcript schema word properties not handled by the fast check: {unsupported}")
    return _WordRules(tuple(word.get("required", ())), numbers, strings)


def _word_lists(document: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    if isinstance(document.get("words"), list):
        yield "words", document["words"]
    for index, segment in enumerate(document.get("segments") or []):
        if isinstance(segment, dict) and isinstance(segment.get("words"), list):
            yield f"segments/{index}/words", segment["words"]


def _word_errors(document: dict[str, Any]) -> Iterator[str]:
    rules = _word_rules()
    for path, words in _word_lists(document):
        for index, word in enumerate(words):
            where = f"{path}/{index}"
            if not isinstance(word, dict):
                yield f"{where}: {word!r} is not an object"
                continue
            for name in rules.required:
                if name not in word:
                    yield f"{where}: {name!r} is a required property"
            for name, minimum in rules.numbers.items():
                value = word.get(name)
                if name not in word:
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float):
                    yield f"{where}/{name}: {value!r} is not a number"
                elif minimum is not None and value < minimum:
                    yield f"{where}/{name}: {value!r} is less than the minimum of {minimum}"
            for name in rules.strings:
                if name in word and not isinstance(word[name], str):
                    yield f"{where}/{name}: {word[name]!r} is not a string"


def validate_transcript(document: Any) -> dict[str, Any]:
    errors = [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(
            _skeleton_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path))
        )
    ]
    if not errors:
        for message in _word_errors(document):
            errors.append(message)
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    if errors:
        details = "; ".join(errors[:MAX_REPORTED_ERRORS])
        raise TranscriptInvalid(f"transcript does not match schema 1.0: {details}")
    return document


def load_transcript(s3: Any, uri: str) -> dict[str, Any]:
    location = parse_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        # Without s3:ListBucket (least privilege), S3 answers a missing key with AccessDenied, not NoSuchKey.
        if code in {"NoSuchKey", "404", "AccessDenied", "403"}:
            raise TranscriptInvalid(f"{uri} does not exist or is not readable ({code})") from exc
        raise
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise TranscriptInvalid(f"{uri} is not JSON: {exc}") from exc
    return validate_transcript(document)
