"""Specification of the Postprocess state: transcript.json -> SRT, VTT, text and segments rows in S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from common.transcript import TranscriptInvalid, validate_transcript
from contracts.models import PostprocessRequest, TranscriptDocument, UploadedObject
from moto import mock_aws
from postprocess.postprocess import postprocess, render
from postprocess.segments import COLUMNS, segment_rows
from test_common_support import (
    OUT,
    AwsClients,
    FakeLambdaContext,
    aws_environment,
    create_bucket,
)

from tests.contract_examples import planned

SOURCE = UploadedObject(bucket="in", key="talks/keynote.mp3", etag="abc", size=10, uri="s3://in/talks/keynote.mp3")
PLAN = planned(SOURCE, duration_s=60.0, output_bucket=OUT)
PREFIX = PLAN.request.output_prefix
REQUEST = PostprocessRequest(source=SOURCE, plan=PLAN)


def model(document: dict[str, Any]) -> TranscriptDocument:
    return TranscriptDocument.model_validate(document)


def make_transcript(*segment_texts: str, language: str | None = "en") -> dict[str, Any]:
    """A schema-valid transcript document; each word 0.3 s, 0.1 s apart, segments 1 s apart."""
    segments, all_words, t = [], [], 0.0
    for index, text in enumerate(segment_texts):
        words = []
        for word in text.split():
            words.append({"start": round(t, 3), "end": round(t + 0.3, 3), "word": word})
            t += 0.4
        segments.append(
            {
                "id": index,
                "start": words[0]["start"] if words else t,
                "end": words[-1]["end"] if words else t,
                "text": text,
                "words": words,
            }
        )
        all_words += words
        t += 1.0
    return {
        "schema_version": "1.0",
        "source": {"uri": SOURCE.uri, "etag": "abc", "size": 10},
        "media": {"duration_s": round(t, 3), "codec": "mp3", "sample_rate": 44100, "channels": 2},
        "model": {"name": "nvidia/parakeet-tdt-0.6b-v3", "revision": None},
        "mode": "full",
        "chunking": None,
        "language": language,
        "text": " ".join(segment_texts),
        "segments": segments,
        "words": all_words,
        "timings": {"download": 1.0, "decode": 2.0, "load": 10.0, "inference": 30.0, "total": 43.0},
        "hardware": {"device": "cuda", "gpu": "NVIDIA L4", "dtype": "bfloat16"},
    }


@pytest.fixture(scope="module")
def clients() -> Iterator[AwsClients]:
    with aws_environment() as built:
        yield built


@pytest.fixture
def s3(clients: AwsClients) -> Iterator[Any]:
    with mock_aws():
        create_bucket(clients.s3)
        yield clients.s3


def put_transcript(s3: Any, document: Any) -> None:
    body = document if isinstance(document, str) else json.dumps(document)
    s3.put_object(Bucket=OUT, Key="transcripts/talks/keynote.mp3/transcript.json", Body=body.encode())


def read(s3: Any, key: str) -> str:
    return s3.get_object(Bucket=OUT, Key=key)["Body"].read().decode("utf-8")


# ---------------------------------------------------------------- schema
def test_the_test_transcript_is_valid_against_the_contract_schema() -> None:
    assert validate_transcript(make_transcript("hello world.")) is not None


def test_a_transcript_missing_required_fields_is_rejected_with_the_field_named() -> None:
    document = make_transcript("hello")
    del document["timings"]

    with pytest.raises(TranscriptInvalid, match="timings"):
        validate_transcript(document)


# ---------------------------------------------------------------- segments rows
def test_one_segment_row_per_segment_with_the_workflow_identity() -> None:
    rows = segment_rows(SOURCE, model(make_transcript("first part.", "second part.")))

    assert [r["segment_id"] for r in rows] == [0, 1]
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    assert rows[1]["text"] == "second part."
    assert (rows[0]["source_uri"], rows[0]["etag"], rows[0]["language"]) == (SOURCE.uri, "abc", "en")
    assert rows[0]["model"] == "nvidia/parakeet-tdt-0.6b-v3"
    assert rows[1]["start_s"] >= rows[0]["end_s"]


def test_render_produces_all_files_consistent_with_each_other() -> None:
    files = render(SOURCE, model(make_transcript("Hello there.", "How are you?")))

    assert files["transcript.srt"].startswith("1\n00:00:00,000 --> ")
    assert files["transcript.vtt"].startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert files["transcript.srt"].count(" --> ") == files["transcript.vtt"].count(" --> ") == 2
    assert files["transcript.txt"] == "Hello there.\n\nHow are you?\n"
    assert len(files["jsonl"].splitlines()) == 2


# ---------------------------------------------------------------- S3 round trip
def test_outputs_are_written_next_to_the_transcript_and_under_segments(s3: Any) -> None:
    put_transcript(s3, make_transcript("Hello there.", "Ünïcode wörds & <markup> too."))

    result = postprocess(s3, REQUEST, OUT)

    prefix = PREFIX
    assert result.outputs.model_dump() == {
        "transcript_json": prefix + "transcript.json",
        "srt": prefix + "transcript.srt",
        "vtt": prefix + "transcript.vtt",
        "txt": prefix + "transcript.txt",
        "segments_jsonl": f"s3://{OUT}/segments/talks/keynote.mp3.jsonl",
    }
    assert "Ünïcode wörds & <markup> too." in read(s3, "transcripts/talks/keynote.mp3/transcript.srt")
    assert "&lt;markup&gt;" in read(s3, "transcripts/talks/keynote.mp3/transcript.vtt")
    rows = [json.loads(line) for line in read(s3, "segments/talks/keynote.mp3.jsonl").splitlines()]
    assert [r["text"] for r in rows] == ["Hello there.", "Ünïcode wörds & <markup> too."]
    head = s3.head_object(Bucket=OUT, Key="transcripts/talks/keynote.mp3/transcript.vtt")
    assert head["ContentType"].startswith("text/vtt")


def test_an_empty_transcript_gives_valid_empty_outputs(s3: Any) -> None:
    document = make_transcript()
    document["text"] = ""
    put_transcript(s3, document)

    postprocess(s3, REQUEST, OUT)

    assert read(s3, "transcripts/talks/keynote.mp3/transcript.srt") == ""
    assert read(s3, "transcripts/talks/keynote.mp3/transcript.vtt") == "WEBVTT\n"
    assert read(s3, "transcripts/talks/keynote.mp3/transcript.txt") == ""
    assert read(s3, "segments/talks/keynote.mp3.jsonl") == ""


def test_a_missing_transcript_is_an_internal_error(s3: Any) -> None:
    with pytest.raises(TranscriptInvalid, match="does not exist"):
        postprocess(s3, REQUEST, OUT)


def test_a_transcript_that_is_not_json_is_an_internal_error(s3: Any) -> None:
    put_transcript(s3, "{not json")

    with pytest.raises(TranscriptInvalid, match="not JSON"):
        postprocess(s3, REQUEST, OUT)


def test_without_output_bucket_setting_segments_go_to_the_output_prefix_bucket(s3: Any) -> None:
    put_transcript(s3, make_transcript("hi"))

    outputs = postprocess(s3, REQUEST, None).outputs

    assert outputs.segments_jsonl == f"s3://{OUT}/segments/talks/keynote.mp3.jsonl"


def test_the_handler_returns_the_outputs_and_the_summary_index_needs(s3: Any) -> None:
    import postprocess.app

    # Given a transcript of two words, made in full mode
    put_transcript(s3, make_transcript("Hello there."))

    result = postprocess.app.handler(REQUEST.model_dump(mode="json"), FakeLambdaContext())

    # Then the result is the outputs plus what Index records, so Index never reads transcript.json
    assert set(result) == {"outputs", "summary"}
    assert set(result["outputs"]) == {"transcript_json", "srt", "vtt", "txt", "segments_jsonl"}
    summary = result["summary"]
    assert (summary["language"], summary["mode"], summary["word_count"]) == ("en", "full", 2)
    assert summary["timings"]["total"] == 43.0
    assert summary["model"]["name"] == "nvidia/parakeet-tdt-0.6b-v3"


def test_an_unreadable_transcript_is_reported_as_such_not_as_a_bare_access_error() -> None:
    from botocore.exceptions import ClientError

    class DeniedS3:
        def get_object(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    with pytest.raises(TranscriptInvalid, match="AccessDenied"):
        postprocess(DeniedS3(), REQUEST, OUT)
