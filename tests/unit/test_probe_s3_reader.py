"""Specification of the S3 range reader: a file object whose every byte is paid for once."""

from __future__ import annotations

import io
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from probe_audio.s3_reader import ObjectChanged, ReadBudgetExceeded, S3RangeReader

from tests.unit.probe_fixtures import CountingS3

BUCKET = "bucket"
BLOCK = 1024
PAYLOAD = bytes(range(256)) * 40  # 10 240 bytes: ten 1 KiB blocks


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingS3]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="obj", Body=PAYLOAD)
        yield CountingS3(client)


def reader(s3: CountingS3, **kwargs: object) -> S3RangeReader:
    return S3RangeReader(s3, BUCKET, "obj", block_size=BLOCK, **kwargs)  # type: ignore[arg-type]


def test_reads_return_the_object_bytes_wherever_they_fall(s3: CountingS3) -> None:
    # Given a reader over a 10-block object / When reading across block boundaries and at the end
    r = reader(s3)
    r.seek(1000)
    assert r.read(100) == PAYLOAD[1000:1100]
    r.seek(-10, io.SEEK_END)
    assert r.read() == PAYLOAD[-10:]
    # Then reads past the end are empty and the position still moves like a file's
    assert r.read(5) == b""
    assert r.tell() == len(PAYLOAD)
    r.seek(len(PAYLOAD) + 50)
    assert r.read(1) == b""


def test_first_get_learns_the_size_and_later_rereads_are_free(s3: CountingS3) -> None:
    # Given a fresh reader
    r = reader(s3)
    # When the size is asked and the head is read many times in small pieces
    assert r.seek(0, io.SEEK_END) == len(PAYLOAD)
    for offset in range(0, BLOCK, 16):
        r.seek(offset)
        r.read(16)
    # Then one GET of one block served all of it
    assert s3.ranges == ["bytes=0-1023"]
    assert (r.requests, r.bytes_read) == (1, BLOCK)


def test_contiguous_missing_blocks_are_fetched_in_one_request(s3: CountingS3) -> None:
    # Given a reader that already holds block 3
    r = reader(s3)
    r.seek(3 * BLOCK)
    r.read(1)
    # When a read spans blocks 1..5
    r.seek(BLOCK)
    assert r.read(5 * BLOCK) == PAYLOAD[BLOCK : 6 * BLOCK]
    # Then only the two missing runs are fetched, one GET each (plus the first GET)
    assert s3.ranges == ["bytes=0-1023", "bytes=3072-4095", "bytes=1024-3071", "bytes=4096-6143"]


def test_sequential_misses_read_ahead_with_growing_requests(s3: CountingS3) -> None:
    # Given a caller that streams the object block by block from the start
    r = reader(s3)
    # When it reads all ten blocks one block at a time
    data = b"".join(r.read(BLOCK) for _ in range(10))
    # Then the bytes are right and each sequential GET is twice the previous one: 4 GETs, not 10
    assert data == PAYLOAD
    assert s3.ranges == ["bytes=0-1023", "bytes=1024-3071", "bytes=3072-7167", "bytes=7168-10239"]


def test_readinto_fills_a_buffer(s3: CountingS3) -> None:
    r = reader(s3)
    buffer = bytearray(300)
    assert r.readinto(buffer) == 300
    assert bytes(buffer) == PAYLOAD[:300]


def test_gets_are_pinned_to_the_etag(s3: CountingS3) -> None:
    # Given a reader that has read the head of the object
    r = reader(s3)
    r.read(10)
    # When the object is overwritten before the tail is read
    s3.client.put_object(Bucket=BUCKET, Key="obj", Body=PAYLOAD[::-1])
    r.seek(-10, io.SEEK_END)
    # Then the next GET is refused rather than mixing two uploads' bytes
    with pytest.raises(ObjectChanged):
        r.read(10)


def test_etag_from_the_event_is_checked_on_the_first_get(s3: CountingS3) -> None:
    # Given an event ETag that is not the stored object's
    r = reader(s3, etag="ffffffffffffffffffffffffffffffff")
    # When reading / Then S3's precondition failure surfaces as ObjectChanged
    with pytest.raises(ObjectChanged):
        r.read(1)


def test_deleted_object_is_reported_as_changed(s3: CountingS3) -> None:
    r = reader(s3)
    s3.client.delete_object(Bucket=BUCKET, Key="obj")
    with pytest.raises(ObjectChanged):
        r.read(1)


def test_empty_object_has_size_zero(s3: CountingS3) -> None:
    # Given a zero-byte object (S3 answers any Range on it with 416 InvalidRange)
    s3.client.put_object(Bucket=BUCKET, Key="obj", Body=b"")
    r = reader(s3)
    # When asked for its size and bytes / Then it is an empty file, found with one GET
    assert r.seek(0, io.SEEK_END) == 0
    assert r.read() == b""
    assert s3.requests == 1


def test_read_budget_stops_runaway_parsers(s3: CountingS3) -> None:
    # Given a reader allowed 3 blocks
    r = reader(s3, max_bytes=3 * BLOCK)
    r.read(2 * BLOCK)
    # When a parser wants two more blocks / Then the reader refuses instead of downloading the object
    with pytest.raises(ReadBudgetExceeded):
        r.read(2 * BLOCK)
    assert r.bytes_read == 2 * BLOCK
