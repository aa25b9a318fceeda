"""Specification: a deleted input is a superseded upload, and a denied read is not taken for one (issue 22).

S3 answers a missing key with 404 only to a caller allowed s3:ListBucket on the bucket; to any other it
answers 403 AccessDenied, the same as a real denial. Every role that reads input keys therefore holds
ListBucket on the input bucket (tests/workflow/test_template_policies.py), so "deleted" is a 404, and
the three readers of an input (ownership, the probe's reader, gpu_job's storage) share one code set,
pipeline.exact_upload.INPUT_GONE. A 403 stays an error: it may be a broken policy, not a deletion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from pipeline.contracts import UploadedObject
from pipeline.exact_upload import current_object
from pipeline.outcomes import SourceSuperseded
from probe_audio.s3_reader import S3RangeReader

from gpu_job.storage import superseded_on_412

BUCKET, KEY = "uploads", "gone.wav"
DENIED = {
    "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
    "ResponseMetadata": {"HTTPStatusCode": 403},
}


@pytest.fixture
def s3_with_a_deleted_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        etag = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"RIFF....")["ETag"].strip('"')
        s3.delete_object(Bucket=BUCKET, Key=KEY)  # (moto, like S3 to a lister, answers 404 from now on)
        yield s3, etag


class DeniedS3:
    """S3 as a role without s3:GetObject sees it: every read of the key answers 403."""

    def head_object(self, **kwargs: Any) -> Any:
        raise ClientError(DENIED, "HeadObject")

    def get_object(self, **kwargs: Any) -> Any:
        raise ClientError(DENIED, "GetObject")


def test_ownership_sees_a_deleted_key_as_deleted_and_a_denied_one_as_an_error(
    s3_with_a_deleted_key: tuple[Any, str],
) -> None:
    s3, _ = s3_with_a_deleted_key
    assert current_object(s3, BUCKET, KEY) == {"etag": None, "version_id": None, "deleted": True}
    with pytest.raises(ClientError):
        current_object(DeniedS3(), BUCKET, KEY)


def test_the_probe_reader_stops_superseded_on_a_deleted_key_and_fails_on_a_denied_one(
    s3_with_a_deleted_key: tuple[Any, str],
) -> None:
    s3, etag = s3_with_a_deleted_key
    with pytest.raises(SourceSuperseded, match="vanished"):
        S3RangeReader(s3, BUCKET, KEY, etag=etag).read(16)
    with pytest.raises(ClientError):
        S3RangeReader(DeniedS3(), BUCKET, KEY, etag=etag).read(16)


def test_gpu_job_storage_stops_superseded_on_a_deleted_key_and_fails_on_a_denied_one(
    s3_with_a_deleted_key: tuple[Any, str],
) -> None:
    s3, etag = s3_with_a_deleted_key
    source = UploadedObject(bucket=BUCKET, key=KEY, etag=etag, size=8, uri=f"s3://{BUCKET}/{KEY}")
    with pytest.raises(SourceSuperseded), superseded_on_412(source):
        s3.head_object(Bucket=BUCKET, Key=KEY, IfMatch=f'"{etag}"')
    with pytest.raises(ClientError), superseded_on_412(source):
        DeniedS3().head_object(Bucket=BUCKET, Key=KEY)
