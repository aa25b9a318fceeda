"""Parse and format ``s3://bucket/key`` URIs.

Every state in the workflow passes locations as URIs (docs/CONTRACTS.md), so the split into
bucket and key lives in one place instead of ad-hoc string slicing in each function.
"""

from __future__ import annotations

from typing import NamedTuple

_SCHEME = "s3://"


class S3Location(NamedTuple):
    bucket: str
    key: str


def parse_s3_uri(uri: str) -> S3Location:
    """Split ``s3://bucket/key``; the key is verbatim (not URL-decoded): URIs here are built by us."""
    if not isinstance(uri, str) or not uri.startswith(_SCHEME):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, sep, key = uri[len(_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"s3 URI without a bucket: {uri!r}")
    return S3Location(bucket=bucket, key=key if sep else "")


def format_s3_uri(bucket: str, key: str = "") -> str:
    return f"{_SCHEME}{bucket}/{key}"


def join_s3_uri(prefix: str, name: str) -> str:
    """Append ``name`` to a prefix URI, tolerating a missing trailing slash on the prefix."""
    return prefix + name if prefix.endswith("/") else f"{prefix}/{name}"
