"""Execution names: readable, deterministic per upload, distinct across uploads, valid for Step Functions."""

from __future__ import annotations

import re

import pytest
from pipeline.contracts import UploadedObject
from pipeline.naming import MAX_NAME_LENGTH, execution_name

VALID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def upload(
    key: str,
    etag: str = "9b2cf535f27731c974343645a3985328",
    version_id: str | None = None,
    bucket: str = "in",
) -> UploadedObject:
    return UploadedObject(
        bucket=bucket, key=key, etag=etag, version_id=version_id, size=10, uri=f"s3://{bucket}/{key}"
    )


def test_the_name_says_which_file_and_which_upload() -> None:
    name = execution_name(upload("calls/2026/agent call.wav"))
    assert name.startswith("calls_2026_agent-call-wav-9b2cf535-")
    assert VALID.match(name)


def test_the_version_pins_the_name_when_the_bucket_is_versioned() -> None:
    name = execution_name(upload("a.mp3", version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"))
    assert name.startswith("a-mp3-3HL4kqtJ-")


def test_the_same_upload_always_gets_the_same_name_and_another_upload_another() -> None:
    assert execution_name(upload("a.wav")) == execution_name(upload("a.wav"))
    assert execution_name(upload("a.wav")) != execution_name(upload("a.wav", etag="1" * 32))
    assert execution_name(upload("a.wav")) != execution_name(upload("a.wav", bucket="other"))
    assert execution_name(upload("x/a.wav")) != execution_name(upload("y/a.wav"))


@pytest.mark.parametrize(
    "key",
    [
        "é" * 300,
        "日本語の録音.wav",
        'a b/c<d>{e}[f]?*"#%\\^|~`$&,;:.wav',
        "/" * 5 + "x",
        "..",
        "x" * 1024,
        "folder/" + "ü" * 200 + ".flac",
        "\x01\x7f.wav",
    ],
)
def test_any_key_gives_a_valid_name_within_80_characters(key: str) -> None:
    name = execution_name(upload(key))
    assert VALID.match(name), name
    assert len(name) <= MAX_NAME_LENGTH


def test_long_keys_keep_the_file_name_and_differ_by_hash() -> None:
    first = execution_name(upload("deep/" * 40 + "lecture-01.mp3"))
    second = execution_name(upload("other/" * 40 + "lecture-01.mp3"))
    assert "lecture-01-mp3" in first
    assert first != second


def test_a_retry_suffix_makes_a_distinct_valid_name() -> None:
    original = execution_name(upload("k" * 500))
    retried = execution_name(upload("k" * 500), suffix="retry1")
    assert retried != original and retried.endswith("-retry1") and len(retried) <= MAX_NAME_LENGTH
    with pytest.raises(ValueError):
        execution_name(upload("a.wav"), suffix="bad suffix")
