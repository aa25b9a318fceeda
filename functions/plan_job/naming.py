"""The Batch job name derived from the source object."""

from __future__ import annotations

import hashlib
import re

JOB_NAME_MAX = 128
_JOB_NAME_PREFIX = "transcribe-"
_HASH_LEN = 12
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]+")


def job_name(source_uri: str, etag: str) -> str:
    """A valid Batch job name ([A-Za-z0-9_-], <=128) a person can recognise in the console.

    The readable part keeps the end of the key (the file name is more telling than the
    prefix); the hash of uri+etag keeps names of different objects distinct after sanitising
    and truncation.
    """
    digest = hashlib.sha256(f"{source_uri}\n{etag}".encode()).hexdigest()[:_HASH_LEN]
    key = source_uri.split("/", 3)[-1] if source_uri.startswith("s3://") else source_uri
    readable = _NOT_ALLOWED.sub("-", key).strip("-_")
    room = JOB_NAME_MAX - len(_JOB_NAME_PREFIX) - 1 - len(digest)
    readable = readable[-room:].lstrip("-_") if readable else ""
    return f"{_JOB_NAME_PREFIX}{readable}-{digest}" if readable else f"{_JOB_NAME_PREFIX}{digest}"
