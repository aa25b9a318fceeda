"""Specification of how one file's transcription ends (gpu_job.outcome.write_outcome): what is written
where, and the exit code that carries the outcome class out of a Batch job. The per-file job and the pool
worker both end every file here."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pipeline.contracts import UploadedObject
from pipeline.outcomes import (
    GPU_JOB_EXIT_BAD_INPUT,
    GPU_JOB_EXIT_INTERNAL,
    GPU_JOB_EXIT_OK,
    GPU_JOB_EXIT_SUPERSEDED,
    CorruptMedia,
    SourceSuperseded,
)

from gpu_job.outcome import write_outcome

PREFIX = "s3://media-out/transcripts/talk.wav/"


def upload(s3: Any, body: bytes) -> UploadedObject:
    put = s3.put_object(Bucket="media-in", Key="talk.wav", Body=body)
    return UploadedObject(
        bucket="media-in",
        key="talk.wav",
        etag=put["ETag"].strip('"'),
        size=len(body),
        uri="s3://media-in/talk.wav",
    )


def written(s3: Any) -> dict[str, Any]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="media-out").get("Contents", [])]
    return {
        k.rsplit("/", 1)[-1]: json.loads(s3.get_object(Bucket="media-out", Key=k)["Body"].read())
        for k in keys
    }


def test_a_transcript_is_written_owned_and_exits_0(s3: Any) -> None:
    source = upload(s3, b"bytes")
    result = write_outcome(PREFIX, source, {"text": "hello"})
    assert (result.exit_code, result.error) == (GPU_JOB_EXIT_OK, None)
    assert written(s3) == {"transcript.json": {"text": "hello"}}


def test_bad_input_writes_error_json_naming_the_upload_and_exits_65(
    s3: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    source = upload(s3, b"bytes")
    result = write_outcome(PREFIX, source, CorruptMedia("bad frame"))
    assert result.exit_code == GPU_JOB_EXIT_BAD_INPUT
    document = written(s3)["error.json"]
    assert (document["error"], document["etag"]) == ("CorruptMedia", source.etag)
    assert document["input"] == source.uri
    assert json.loads(capfd.readouterr().err.strip().splitlines()[-1]) == document


def test_a_superseded_upload_writes_nothing_and_exits_66(s3: Any) -> None:
    source = upload(s3, b"bytes")
    result = write_outcome(PREFIX, source, SourceSuperseded("overwritten"))
    assert result.exit_code == GPU_JOB_EXIT_SUPERSEDED
    assert result.error is not None and result.error["error"] == "SourceSuperseded"
    assert written(s3) == {}


@pytest.mark.parametrize("outcome", [{"text": "words of the old upload"}, CorruptMedia("old upload was bad")])
def test_an_upload_overwritten_before_its_outcome_is_written_is_superseded_not_bad_input(
    s3: Any, outcome: Any
) -> None:
    # Given a file whose key got a newer upload while it was transcribed
    old = upload(s3, b"first")
    upload(s3, b"second")
    # When its outcome (a transcript, or bad input) is written
    result = write_outcome(PREFIX, old, outcome)
    # Then nothing lands beside the newer upload's outputs, and the exit code says superseded
    assert result.exit_code == GPU_JOB_EXIT_SUPERSEDED
    assert written(s3) == {}


def test_any_other_failure_is_internal_and_writes_nothing(s3: Any) -> None:
    source = upload(s3, b"bytes")
    result = write_outcome(PREFIX, source, RuntimeError("CUDA error"))
    assert result.exit_code == GPU_JOB_EXIT_INTERNAL
    assert written(s3) == {}
