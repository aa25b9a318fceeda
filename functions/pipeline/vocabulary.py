"""Custom vocabularies (phrase boosting): the one home of the file syntax, the limits and the name rule.

A vocabulary is a UTF-8 text object ``s3://<OutputBucket>/vocabularies/<name>.txt``:

```
# comments and blank lines are ignored
Parakeet
acetaminophen | 2.5
New York Stock Exchange
```

One phrase per line, surrounding blanks stripped and inner runs of blanks collapsed; an optional
weight after the last ``|`` (a number in (0, MAX_WEIGHT], default 1) multiplies the stack's
VOCABULARY_BOOST for that phrase. Duplicates keep their largest weight. Which vocabulary an upload
gets is resolved once, in the Probe (``resolve_name``), by the per-upload setting rule
(pipeline.upload_settings, docs/SETTINGS.md): its S3 object tag ``vocabulary``, else the longest
VOCABULARY_BY_PREFIX prefix of its key, else the VOCABULARY setting; the name ``none`` means no
vocabulary. Bad content is typed bad input (``pipeline.outcomes``): the Probe checks the
version it pins, and gpu_job parses the same bytes again with the same rule.

The Lambdas and gpu_job both import this module: no dependency beyond the core package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.contracts import MISSING_ETAG, UploadedObject, VocabularyRef
from pipeline.exact_upload import INPUT_GONE, error_code
from pipeline.outcomes import VocabularyEmpty, VocabularyInvalid, VocabularyNotFound, VocabularyTooLarge
from pipeline.settings import Settings
from pipeline.upload_settings import UploadSetting, resolve

VOCABULARY_PREFIX = "vocabularies/"
VOCABULARY_SUFFIX = ".txt"
NO_VOCABULARY = "none"
VOCABULARY_TAG = "vocabulary"
DEFAULT_WEIGHT = 1.0
MAX_WEIGHT = 50.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True)
class Phrase:
    text: str
    weight: float = DEFAULT_WEIGHT


def check_name(name: str) -> str:
    """A vocabulary name is a file-name-safe word: letters, digits, '.', '_', '-' (64 at most)."""
    if not _NAME.match(name) or name.lower() == NO_VOCABULARY:
        raise VocabularyInvalid(
            f"vocabulary name {name!r} is not valid: use 1-64 letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit), not {NO_VOCABULARY!r}"
        )
    return name


def vocabulary_key(name: str) -> str:
    """The S3 key of a named vocabulary in its bucket."""
    return f"{VOCABULARY_PREFIX}{check_name(name)}{VOCABULARY_SUFFIX}"


def name_from_key(key: str) -> str | None:
    """The vocabulary a key under VOCABULARY_PREFIX names, or None for any other key."""
    if not (key.startswith(VOCABULARY_PREFIX) and key.endswith(VOCABULARY_SUFFIX)):
        return None
    name = key[len(VOCABULARY_PREFIX) : -len(VOCABULARY_SUFFIX)]
    return name if _NAME.match(name) else None


def _name_or_none(value: str) -> str:
    """A written vocabulary name, checked; ``none`` opts out (kept as NO_VOCABULARY)."""
    return NO_VOCABULARY if value.strip().lower() == NO_VOCABULARY else check_name(value.strip())


# The per-upload setting (pipeline.upload_settings' rule: tag, VOCABULARY_BY_PREFIX, VOCABULARY).
VOCABULARY = UploadSetting(VOCABULARY_TAG, _name_or_none)


def resolve_name(tags: Mapping[str, str], key: str, settings: Settings) -> str | None:
    """The vocabulary an upload gets (None: empty or ``none``). A name that breaks the name rule is
    bad input (VocabularyInvalid), wherever it was written."""
    name = resolve(VOCABULARY, tags, key, settings.vocabulary_by_prefix, settings.vocabulary)
    return None if name in (None, NO_VOCABULARY) else name


def _phrase(line: str, number: int, name: str) -> Phrase:
    text, weight = line, DEFAULT_WEIGHT
    head, sep, tail = line.rpartition("|")
    if sep:
        try:
            weight = float(tail)
        except ValueError:
            raise VocabularyInvalid(
                f"vocabulary {name!r} line {number}: weight {tail.strip()!r} after '|' is not a number"
            ) from None
        if not 0 < weight <= MAX_WEIGHT:
            raise VocabularyInvalid(
                f"vocabulary {name!r} line {number}: weight {weight:g} is outside (0, {MAX_WEIGHT:g}]"
            )
        text = head
    text = _BLANKS.sub(" ", text).strip()
    if not text:
        raise VocabularyInvalid(f"vocabulary {name!r} line {number}: a weight without a phrase")
    return Phrase(text, weight)


def parse(body: bytes, name: str, settings: Settings) -> tuple[Phrase, ...]:
    """The phrases of a vocabulary file, checked against the limits (typed bad input otherwise)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VocabularyInvalid(
            f"vocabulary {name!r} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    phrases: dict[str, Phrase] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        phrase = _phrase(line, number, name)
        if len(phrase.text) > settings.vocabulary_max_phrase_chars:
            raise VocabularyTooLarge(
                f"vocabulary {name!r} line {number}: the phrase has {len(phrase.text)} characters, more than "
                f"VOCABULARY_MAX_PHRASE_CHARS={settings.vocabulary_max_phrase_chars}"
            )
        known = phrases.get(phrase.text)
        if known is None or known.weight < phrase.weight:
            phrases[phrase.text] = phrase
        if len(phrases) > settings.vocabulary_max_phrases:
            raise VocabularyTooLarge(
                f"vocabulary {name!r} has more than VOCABULARY_MAX_PHRASES={settings.vocabulary_max_phrases} "
                "phrases"
            )
    if not phrases:
        raise VocabularyEmpty(f"vocabulary {name!r} holds no phrase (only blank lines and comments)")
    return tuple(phrases.values())


def render(phrases: tuple[Phrase, ...] | list[Phrase]) -> str:
    """The file text of phrases (what `parakeet vocab put` writes back after checking)."""
    lines = [p.text if p.weight == DEFAULT_WEIGHT else f"{p.text} | {p.weight:g}" for p in phrases]
    return "\n".join(lines) + "\n"


# S3 answers these to a read of a vocabulary that is not there: 404 with s3:ListBucket, 403 without
# (the roles may read only vocabularies/*, never list), 412 when the pinned ETag was replaced.
VOCABULARY_GONE = INPUT_GONE | {"AccessDenied", "403"}


def read_current(
    s3: Any, bucket: str, name: str, settings: Settings
) -> tuple[VocabularyRef, tuple[Phrase, ...]]:
    """The vocabulary `name` as it is now, checked, and pinned to the version read (VersionId when the
    bucket is versioned, and its ETag): what the Probe hands on, so the job boosts exactly these bytes."""
    key = vocabulary_key(name)
    uri = f"s3://{bucket}/{key}"
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if error_code(exc) in VOCABULARY_GONE:
            raise VocabularyNotFound(
                f"vocabulary {name!r} does not exist: no object {uri} ({error_code(exc)}); "
                "create it with `parakeet vocab put`"
            ) from exc
        raise
    body = response["Body"].read()
    phrases = parse(body, name, settings)
    pinned = UploadedObject(
        bucket=bucket,
        key=key,
        uri=uri,
        etag=str(response.get("ETag", "")).strip('"') or MISSING_ETAG,
        version_id=response.get("VersionId") or None,
        size=len(body),
    )
    return VocabularyRef(name=name, object=pinned, phrases=len(phrases)), phrases
