"""S3 reads are ranged and seekable (no temp copy); outputs are keyed by the full input key."""

from __future__ import annotations

import json

import pytest
from pipeline.contracts import UploadedObject
from pipeline.outcomes import SourceSuperseded

from gpu_job import storage


def uploaded(s3, bucket: str, key: str, **pinned: str) -> UploadedObject:
    """The upload as the workflow's event named it (ETag and size from S3 unless given)."""
    head = s3.head_object(Bucket=bucket, Key=key)
    fields = {"etag": head["ETag"].strip('"'), "size": head["ContentLength"], **pinned}
    return UploadedObject(bucket=bucket, key=key, uri=f"s3://{bucket}/{key}", **fields)


def test_s3_source_reads_and_seeks_like_a_file(s3) -> None:
    data = bytes(range(256)) * 40_000  # ~10 MB: more than one read block
    s3.put_object(Bucket="media-in", Key="a/b.bin", Body=data)
    with storage.open_source("s3://media-in/a/b.bin") as src:
        assert src.info.size == len(data) and src.info.etag
        assert src.stream.read(100) == data[:100]
        src.stream.seek(-50, 2)
        assert src.stream.read() == data[-50:]
        src.stream.seek(5_000_000)
        assert src.stream.read(10) == data[5_000_000:5_000_010]


def test_an_overwrite_during_the_job_fails_the_read_instead_of_mixing_uploads(s3) -> None:
    # Given a job reading the upload its request names (unversioned bucket: pinned by ETag)
    size = 3 * storage.READ_BLOCK_BYTES
    s3.put_object(Bucket="media-in", Key="talk.wav", Body=b"a" * size)
    with storage.open_source(uploaded(s3, "media-in", "talk.wav")) as src:
        assert src.stream.read(10) == b"a" * 10
        # When the user uploads new bytes under the same key mid-job
        s3.put_object(Bucket="media-in", Key="talk.wav", Body=b"b" * size)
        # Then the next range is refused as a typed failure (the new upload gets its own event and job)
        with pytest.raises(SourceSuperseded):
            src.stream.seek(2 * storage.READ_BLOCK_BYTES)
            src.stream.read(10)


def test_a_request_for_an_upload_that_was_replaced_before_the_job_started_is_superseded(s3) -> None:
    # Given the event of a first upload, and a second upload under the same key before the job runs
    s3.put_object(Bucket="media-in", Key="talk.wav", Body=b"first")
    first = uploaded(s3, "media-in", "talk.wav")
    s3.put_object(Bucket="media-in", Key="talk.wav", Body=b"second upload")
    # When the job opens the first upload, Then it refuses instead of transcribing the second's bytes
    with pytest.raises(SourceSuperseded):
        storage.open_source(first)


def test_a_versioned_upload_is_read_at_its_version_whatever_came_after(s3) -> None:
    # Given a versioned bucket and the event of the first version
    s3.put_bucket_versioning(Bucket="media-in", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="media-in", Key="v.bin", Body=b"old bytes")["VersionId"]
    first = uploaded(s3, "media-in", "v.bin", version_id=version)
    s3.put_object(Bucket="media-in", Key="v.bin", Body=b"new bytes!")
    # When the job reads it, Then it gets exactly the version the request names
    with storage.open_source(first) as src:
        assert src.stream.read() == b"old bytes"


def test_derived_prefix_keeps_the_full_key_so_basenames_never_collide() -> None:
    a = storage.derived_prefix("s3://media-out/transcripts", "s3://media-in/one/x.mp3")
    b = storage.derived_prefix("s3://media-out/transcripts", "s3://media-in/two/x.mp3")
    assert a == "s3://media-out/transcripts/media-in/one/x.mp3/" and a != b
    assert storage.derived_prefix("/tmp/t", "/data/../x.wav").endswith("/data/x.wav/")


def test_json_is_written_whole_to_s3_and_locally(s3, tmp_path) -> None:
    storage.write_json("s3://media-out/p/transcript.json", {"a": "ü"})
    body = s3.get_object(Bucket="media-out", Key="p/transcript.json")["Body"].read()
    assert json.loads(body) == {"a": "ü"}
    storage.write_json(str(tmp_path / "d" / "t.json"), {"b": 1})
    assert json.loads((tmp_path / "d" / "t.json").read_text()) == {"b": 1}
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["t.json"]  # no temp file left behind
