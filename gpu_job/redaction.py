"""Apply the Redaction setting to a transcript document before anything is written (docs/REDACTION.md).

``tag`` marks each word of an entity with ``pii`` (its type) and lists the spans; ``redact`` also
replaces each entity's words by one placeholder word ``[TYPE]`` spanning their times, and rebuilds
the segments' and the document's text from the words, so every output rendered from transcript.json
(srt, vtt, txt, segments.jsonl, search) holds only redacted text. The spans are listed in
``redactions`` (type, start, end, score) and counted in ``redaction.entities``. Nothing here logs
transcript text: only counts by type.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.contracts import UploadedObject
from pipeline.exact_upload import put_owned
from pipeline.transcript import TranscriptDocument

from gpu_job import audio_redaction, pii, storage
from gpu_job.transcript import document_text

NAMES_WARNING = (
    "person names were not looked for: no name model is installed (PII_NER_MODEL, docs/REDACTION.md)"
)
WordKey = tuple[float, float, str, Any]


def placeholder(entity_type: str) -> str:
    return f"[{entity_type}]"


def _key(word: dict[str, Any]) -> WordKey:
    return (word["start"], word["end"], word["word"], word.get("channel"))


def _languages(document: dict[str, Any]) -> list[str]:
    found = [document.get("language") or ""]
    found += [share["language"] for share in document.get("languages") or []]
    return [lang for lang in dict.fromkeys(found) if lang]


def find(document: dict[str, Any]) -> tuple[list[pii.Span], list[int | None], dict[WordKey, int]]:
    """The spans of every channel (each channel's words analysed on their own), the channel of each
    (None: one signal) and, for each word inside one, the index of its span."""
    words = document.get("words") or []
    channels = list(dict.fromkeys(w.get("channel") for w in words))
    spans: list[pii.Span] = []
    span_channels: list[int | None] = []
    owner: dict[WordKey, int] = {}
    for channel in channels:
        mine = [w for w in words if w.get("channel") == channel]
        found = pii.find_spans(
            [w["word"] for w in mine], [(w["start"], w["end"]) for w in mine], _languages(document)
        )
        for span in found:
            for w in mine[span.first : span.last + 1]:
                owner[_key(w)] = len(spans)
            spans.append(span)
            span_channels.append(channel)
    return spans, span_channels, owner


def _rewrite(
    words: list[dict[str, Any]], spans: list[pii.Span], owner: dict[WordKey, int], mode: str
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    previous: int | None = None
    for word in words:
        index = owner.get(_key(word))
        if index is None:
            out.append(word)
            previous = None
            continue
        kind = spans[index].entity_type
        if mode == "tag":
            out.append({**word, "pii": kind})
        elif index == previous:  # the same entity goes on: widen its placeholder
            out[-1] = {**out[-1], "end": max(out[-1]["end"], word["end"])}
        else:
            replaced = {k: v for k, v in word.items() if k not in ("confidence",)}
            out.append({**replaced, "word": placeholder(kind), "pii": kind})
        previous = index
    return out


def apply(document: dict[str, Any], mode: str) -> dict[str, Any]:
    """The document as the Redaction setting ``mode`` (off, tag, redact) wants it written; the input
    is not changed (the caller may keep it as the unredacted copy)."""
    if mode == "off":
        return document
    spans, channels, owner = find(document)
    result = copy.deepcopy(document)
    result["words"] = _rewrite(document.get("words") or [], spans, owner, mode)
    for segment in result.get("segments") or []:
        segment["words"] = _rewrite(segment.get("words") or [], spans, owner, mode)
        if mode == "redact":
            segment["text"] = " ".join(w["word"] for w in segment["words"])
    if mode == "redact":
        result["text"] = document_text(result.get("segments") or [])
    result["redactions"] = [
        {"type": s.entity_type, "start": s.start, "end": s.end, "score": s.score}
        | ({} if channel is None else {"channel": channel})
        for s, channel in sorted(zip(spans, channels, strict=True), key=lambda pair: pair[0].start)
    ]
    result["redaction"] = {
        "mode": mode,
        "entities": dict(sorted(Counter(s.entity_type for s in spans).items())),
        "names_detected": pii.names_detectable(),
    }
    if not pii.names_detectable():
        result["warnings"] = [*result.get("warnings", []), NAMES_WARNING]
    return result


UNREDACTED_PREFIX_ENV = "UNREDACTED_PREFIX"  # s3://<OutputBucket>/unredacted/ when the stack keeps copies
UNREDACTED_KMS_KEY_ENV = "UNREDACTED_KMS_KEY_ID"


def unredacted_uri(prefix: str, source_key: str) -> str:
    """``<UNREDACTED_PREFIX><source key>/transcript.json``: the redacted outputs' layout, own prefix."""
    return f"{prefix.rstrip('/')}/{source_key}/transcript.json"


def finish(
    document: dict[str, Any], source: UploadedObject | str, output_prefix: str, mode: str, redact_audio: bool
) -> dict[str, Any]:
    """What the job writes as transcript.json under the Redaction setting, after writing the
    silenced audio copy (redact + redact_audio) and, when the stack enables it (UNREDACTED_PREFIX),
    the unredacted transcript under its own prefix and KMS key. ``source`` is the UploadedObject
    (or a person's path); every write is owned by it like transcript.json."""
    result = apply(document, mode)
    if mode == "off":
        return result
    # The rewritten document is the contract too: a redaction that breaks it is our bug (exit 70),
    # found before anything of it is written.
    TranscriptDocument.model_validate(result)
    if mode == "redact" and redact_audio:
        target = storage.join_prefix(output_prefix, audio_redaction.AUDIO_NAME)
        with storage.open_source(source) as opened:
            body = audio_redaction.redacted_flac(opened.stream, result["redactions"])
        _write_bytes(target, body, audio_redaction.CONTENT_TYPE, source)
        result["redaction"]["audio"] = target
    prefix = os.environ.get(UNREDACTED_PREFIX_ENV, "").strip()
    if prefix and isinstance(source, UploadedObject):
        key_id = os.environ.get(UNREDACTED_KMS_KEY_ENV, "").strip()
        encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id} if key_id else None
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        _write_bytes(unredacted_uri(prefix, source.key), body, "application/json", source, encryption)
    return result


def _write_bytes(
    uri: str,
    body: bytes,
    content_type: str,
    source: UploadedObject | str,
    encryption: dict[str, str] | None = None,
) -> None:
    if storage.is_s3(uri):
        bucket, key = storage.split_s3(uri)
        if isinstance(source, UploadedObject):
            put_owned(storage.s3_client(), source, bucket, key, body, content_type, encryption=encryption)
        else:
            storage.s3_client().put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, **(encryption or {})
            )
        return
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
