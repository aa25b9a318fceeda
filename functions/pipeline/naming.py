"""Execution names that say which file an execution transcribes, and refuse duplicates.

Step Functions keeps a standard workflow's execution name unique for 90 days and answers
``ExecutionAlreadyExists`` to a second StartExecution with the same name and another input, so a
name derived only from the upload's identity (bucket, key, version or ETag) is a second guard
beside Claim: a duplicate delivery of the same upload cannot start a second execution. Names are
limited to 80 characters; only ASCII letters, digits, ``-`` and ``_`` are used, because other
characters stop the execution's events from reaching CloudWatch Logs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from pipeline.contracts import MISSING_ETAG, UploadedObject

MAX_NAME_LENGTH = 80
HASH_LENGTH = 10
TAG_LENGTH = 8
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


def _ascii_words(text: str) -> str:
    """Readable ASCII for a key fragment: accents dropped (é -> e), anything else a single '-'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("-", folded).strip("-_")


def upload_identity(source: UploadedObject) -> str:
    """What makes an upload distinct: the version when the bucket is versioned, else the ETag and the
    event's sequencer.

    On an unversioned bucket the ETag alone cannot tell A, B, A apart (the third upload has the first
    one's ETag), and a name refused for it would leave B's outputs in place (docs/EXACT_BYTES.md). S3's
    sequencer differs for every PUT of a key and is the same in every delivery of one event, so a
    duplicate delivery is still refused by name, while an identical re-upload gets its own execution and
    Claim decides (it ends at AlreadyClaimed unless another upload's words hold the key's outputs)."""
    pin = source.version_id or (source.etag if source.etag != MISSING_ETAG else f"size:{source.size}")
    if not source.version_id and source.sequencer:
        pin = f"{pin}@{source.sequencer}"
    return "\0".join((source.bucket, source.key, pin))


def execution_name(source: UploadedObject, suffix: str = "") -> str:
    """``<key, file name first>-<version or ETag, 8>-<hash, 10>[-suffix]``, at most 80 characters.

    The hash covers bucket, full key and version (or ETag and sequencer), so two uploads never share
    a name however their keys are shortened; the same upload always gets the same name. ``suffix`` (e.g.
    ``retry1``) makes a deliberate re-run distinct from the original.
    """
    if suffix and not _SUFFIX.match(suffix):
        raise ValueError(f"suffix {suffix!r} must be 1-20 of A-Z a-z 0-9 - _")
    digest = hashlib.sha256(upload_identity(source).encode("utf-8")).hexdigest()[:HASH_LENGTH]
    return execution_name_prefix(source, suffix) + digest + (f"-{suffix}" if suffix else "")


def execution_name_prefix(source: UploadedObject, suffix: str = "") -> str:
    """``<key>-<version or ETag, 8>-``: the part of the name that needs no event. On an unversioned
    bucket the rest hashes the event's sequencer, which an uploader does not learn from PutObject, so
    ``parakeet upload --wait`` finds its execution by this prefix among those started after the upload."""
    tag = _ascii_words(source.version_id or source.etag)[:TAG_LENGTH] or "x"
    tail = f"-{tag}-" + "x" * HASH_LENGTH + (f"-{suffix}" if suffix else "")
    budget = MAX_NAME_LENGTH - len(tail)
    readable = ""
    # File name first, then as many parent folders as fit, each readable on its own.
    for part in reversed([p for p in source.key.split("/") if p]):
        words = _ascii_words(part)
        if not words:
            continue
        candidate = f"{words}_{readable}" if readable else words
        if len(candidate) > budget:
            if not readable:
                readable = words[:budget].rstrip("-_")
            break
        readable = candidate
    return f"{readable or 'upload'}-{tag}-"


# -- Batch job names --------------------------------------------------------------------------------
JOB_NAME_MAX = 128
_JOB_NAME_PREFIX = "transcribe-"
_HASH_LEN = 12


def job_name(source_uri: str, etag: str) -> str:
    """A valid Batch job name ([A-Za-z0-9_-], <=128) a person can recognise in the console.

    The readable part keeps the end of the key (the file name is more telling than the
    prefix); the hash of uri+etag keeps names of different objects distinct after sanitising
    and truncation.
    """
    digest = hashlib.sha256(f"{source_uri}\n{etag}".encode()).hexdigest()[:_HASH_LEN]
    key = source_uri.split("/", 3)[-1] if source_uri.startswith("s3://") else source_uri
    readable = _UNSAFE.sub("-", key).strip("-_")
    room = JOB_NAME_MAX - len(_JOB_NAME_PREFIX) - 1 - len(digest)
    readable = readable[-room:].lstrip("-_") if readable else ""
    return f"{_JOB_NAME_PREFIX}{readable}-{digest}" if readable else f"{_JOB_NAME_PREFIX}{digest}"
