"""Specification of the Postprocess state: transcript.json -> SRT, VTT, text and segments rows in S3."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from pipeline.catalog import utc_now_iso
from pipeline.contracts import Outputs, PostprocessRequest, UploadedObject
from pipeline.exact_upload import owner_metadata
from pipeline.outcomes import SourceSuperseded
from pipeline.segments import COLUMNS, segment_rows
from pipeline.transcript import LOW_CONFIDENCE_THRESHOLD, SCHEMA_VERSION, TranscriptDocument
from pipeline.transcript_reader import TranscriptInvalid, validate_transcript
from postprocess.postprocess import postprocess, render, summarize
from test_common_support import (
    OUT,
    AwsClients,
    FakeLambdaContext,
    create_bucket,
)

from tests.contract_examples import planned

AUDIO = b"keynote audio"
ETAG = hashlib.md5(AUDIO).hexdigest()  # what S3 (and moto) give a single-part upload
SOURCE = UploadedObject(
    bucket="media-in",
    key="talks/keynote.mp3",
    etag=ETAG,
    size=len(AUDIO),
    uri="s3://media-in/talks/keynote.mp3",
)
PLAN = planned(SOURCE, duration_s=60.0, output_bucket=OUT)
PREFIX = PLAN.request.output_prefix
REQUEST = PostprocessRequest(source=SOURCE, plan=PLAN)
TRANSCRIBED_AT = "2026-12-02T14:05:06.789Z"
# segments/dt=<UTC date the upload was transcribed>/<source key>.jsonl (the table's date partition)
SEGMENTS_KEY = re.compile(r"^segments/dt=(\d{4}-\d\d-\d\d)/talks/keynote\.mp3\.jsonl$")


def segments_key(outputs: Outputs) -> str:
    """The segments file's key, checked to be in its date partition."""
    key = outputs.segments_jsonl.removeprefix(f"s3://{OUT}/")
    assert SEGMENTS_KEY.match(key), key
    return key


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
        "schema_version": "1.1",
        "source": {"uri": SOURCE.uri, "etag": ETAG, "size": len(AUDIO)},
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


@pytest.fixture
def s3(clients: AwsClients) -> Iterator[Any]:
    with mock_aws():
        create_bucket(clients.s3)
        create_bucket(clients.s3, SOURCE.bucket)
        clients.s3.put_object(Bucket=SOURCE.bucket, Key=SOURCE.key, Body=AUDIO)
        yield clients.s3


def put_transcript(s3: Any, document: Any, owner: UploadedObject | None = SOURCE) -> None:
    """transcript.json as gpu_job writes it: with its owner's metadata (pipeline.exact_upload)."""
    body = document if isinstance(document, str) else json.dumps(document)
    metadata = owner_metadata(owner) if owner else {}
    s3.put_object(
        Bucket=OUT, Key="transcripts/talks/keynote.mp3/transcript.json", Body=body.encode(), Metadata=metadata
    )


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
    rows = segment_rows(SOURCE, model(make_transcript("first part.", "second part.")), TRANSCRIBED_AT)

    assert [r["segment_id"] for r in rows] == [0, 1]
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    assert rows[1]["text"] == "second part."
    assert (rows[0]["source_uri"], rows[0]["etag"], rows[0]["language"]) == (SOURCE.uri, ETAG, "en")
    assert rows[0]["model"] == "nvidia/parakeet-tdt-0.6b-v3"
    assert rows[1]["start_s"] >= rows[0]["end_s"]
    # And every row says when its upload was transcribed (search keeps the newest upload's rows only)
    assert {r["transcribed_at"] for r in rows} == {TRANSCRIBED_AT}


def split_call() -> dict[str, Any]:
    """A stereo call transcribed channel by channel: agent (channel 0), then customer (channel 1)."""
    document = make_transcript("how can I help?", "my order is late.")
    for channel, segment in enumerate(document["segments"]):
        segment["channel"] = channel
        for word in segment["words"]:
            word["channel"] = channel
    document["words"] = [w for s in document["segments"] for w in s["words"]]
    document["channel_mode"] = {
        "requested": "auto",
        "used": "split",
        "reason": "two speakers",
        "channels": [0, 1],
    }
    return document


def test_a_split_call_labels_who_spoke_in_every_output() -> None:
    # Given a call transcribed channel by channel
    transcript = model(split_call())

    # When it is rendered
    files = render(SOURCE, transcript, TRANSCRIBED_AT)

    # Then subtitles and text name the channel, and the segment rows carry it for queries
    assert "[Channel 1] how can I help?" in files["transcript.srt"]
    assert "[Channel 2] my order is late." in files["transcript.vtt"]
    assert files["transcript.txt"] == "[Channel 1] how can I help?\n\n[Channel 2] my order is late.\n"
    rows = [json.loads(line) for line in files["jsonl"].splitlines()]
    assert [r["channel"] for r in rows] == [0, 1]
    # And Index learns how the channels were used
    assert summarize(transcript).channel_mode_used == "split"


def test_warnings_of_the_transcript_reach_the_summary() -> None:
    document = make_transcript("hello.")
    document["warnings"] = ["the channels cancel when mixed"]

    assert summarize(model(document)).warnings == ["the channels cancel when mixed"]
    assert summarize(model(make_transcript("hello."))).warnings == []


def test_render_produces_all_files_consistent_with_each_other() -> None:
    files = render(SOURCE, model(make_transcript("Hello there.", "How are you?")), TRANSCRIBED_AT)

    assert files["transcript.srt"].startswith("1\n00:00:00,000 --> ")
    assert files["transcript.vtt"].startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert files["transcript.srt"].count(" --> ") == files["transcript.vtt"].count(" --> ") == 2
    assert files["transcript.txt"] == "Hello there.\n\nHow are you?\n"
    assert len(files["jsonl"].splitlines()) == 2


# ---------------------------------------------------------------- S3 round trip
def test_outputs_are_written_next_to_the_transcript_and_under_segments(s3: Any) -> None:
    put_transcript(s3, make_transcript("Hello there.", "Ünïcode wörds & <markup> too."))

    before = utc_now_iso()
    result = postprocess(s3, REQUEST, OUT)

    prefix = PREFIX
    key = segments_key(result.outputs)
    assert result.outputs.model_dump() == {
        "transcript_json": prefix + "transcript.json",
        "srt": prefix + "transcript.srt",
        "vtt": prefix + "transcript.vtt",
        "txt": prefix + "transcript.txt",
        "segments_jsonl": f"s3://{OUT}/{key}",
    }
    assert "Ünïcode wörds & <markup> too." in read(s3, "transcripts/talks/keynote.mp3/transcript.srt")
    assert "&lt;markup&gt;" in read(s3, "transcripts/talks/keynote.mp3/transcript.vtt")
    rows = [json.loads(line) for line in read(s3, key).splitlines()]
    assert [r["text"] for r in rows] == ["Hello there.", "Ünïcode wörds & <markup> too."]
    # And the rows carry the time of this run, whose UTC date names the partition folder
    [transcribed_at] = {r["transcribed_at"] for r in rows}
    assert before <= transcribed_at <= utc_now_iso()
    assert SEGMENTS_KEY.match(key).group(1) == transcribed_at[:10]
    head = s3.head_object(Bucket=OUT, Key="transcripts/talks/keynote.mp3/transcript.vtt")
    assert head["ContentType"].startswith("text/vtt")


def test_an_empty_transcript_gives_valid_empty_outputs(s3: Any) -> None:
    document = make_transcript()
    document["text"] = ""
    put_transcript(s3, document)

    outputs = postprocess(s3, REQUEST, OUT).outputs

    assert read(s3, "transcripts/talks/keynote.mp3/transcript.srt") == ""
    assert read(s3, "transcripts/talks/keynote.mp3/transcript.vtt") == "WEBVTT\n"
    assert read(s3, "transcripts/talks/keynote.mp3/transcript.txt") == ""
    assert read(s3, segments_key(outputs)) == ""


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

    assert outputs.segments_jsonl.startswith(f"s3://{OUT}/")
    segments_key(outputs)


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


# ---------------------------------------------------------------- exact bytes
def test_outputs_name_their_upload_in_their_metadata(s3: Any) -> None:
    put_transcript(s3, make_transcript("hi"))

    outputs = postprocess(s3, REQUEST, OUT).outputs

    for key in ("transcripts/talks/keynote.mp3/transcript.srt", segments_key(outputs)):
        assert s3.head_object(Bucket=OUT, Key=key)["Metadata"] == {"source-etag": ETAG}


def test_an_earlier_bad_uploads_error_json_is_removed_once_this_upload_fills_the_prefix(s3: Any) -> None:
    # Given an earlier upload of the key was bad input and left its error.json in the prefix
    s3.put_object(
        Bucket=OUT,
        Key="transcripts/talks/keynote.mp3/error.json",
        Body=b'{"error": "CorruptMedia", "etag": "earlier"}',
    )
    put_transcript(s3, make_transcript("good words now."))

    # When this upload's transcript is postprocessed
    postprocess(s3, REQUEST, OUT)

    # Then the prefix holds only this upload's outputs
    listed = s3.list_objects_v2(Bucket=OUT, Prefix="transcripts/talks/keynote.mp3/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[-1] for o in listed) == [
        "transcript.json",
        "transcript.srt",
        "transcript.txt",
        "transcript.vtt",
    ]


def test_an_error_json_stays_when_the_key_moved_on_before_its_removal(s3: Any) -> None:
    # Given error.json in the prefix and, by the time Postprocess runs, a newer upload of the key
    s3.put_object(Bucket=OUT, Key="transcripts/talks/keynote.mp3/error.json", Body=b"{}")
    put_transcript(s3, make_transcript("words."))
    s3.put_object(Bucket=SOURCE.bucket, Key=SOURCE.key, Body=b"newer upload")

    # When postprocessed / Then superseded, and the newer upload's prefix is left alone
    with pytest.raises(SourceSuperseded):
        postprocess(s3, REQUEST, OUT)
    s3.head_object(Bucket=OUT, Key="transcripts/talks/keynote.mp3/error.json")


def test_an_upload_the_key_no_longer_holds_writes_no_output(s3: Any) -> None:
    # Given the key was overwritten after this upload's job wrote its transcript
    put_transcript(s3, make_transcript("old words"))
    s3.put_object(Bucket=SOURCE.bucket, Key=SOURCE.key, Body=b"newer upload")

    # When postprocessed / Then superseded, and no derived file exists
    with pytest.raises(SourceSuperseded, match="now holds ETag"):
        postprocess(s3, REQUEST, OUT)
    assert s3.list_objects_v2(Bucket=OUT, Prefix="segments/").get("KeyCount") == 0


def test_another_uploads_transcript_is_never_rendered_as_this_ones(s3: Any) -> None:
    # Given transcript.json written by the newer upload of the key (which the key now holds)
    newer = SOURCE.model_copy(update={"etag": hashlib.md5(b"newer upload").hexdigest()})
    s3.put_object(Bucket=SOURCE.bucket, Key=SOURCE.key, Body=b"newer upload")
    put_transcript(s3, make_transcript("new words"), owner=newer)

    # When the older upload's Postprocess runs / Then it is superseded, not rendering the new words
    with pytest.raises(SourceSuperseded):
        postprocess(s3, REQUEST, OUT)


def test_a_foreign_transcript_while_the_key_still_holds_this_upload_is_internal(s3: Any) -> None:
    other = SOURCE.model_copy(update={"etag": "0" * 32})
    put_transcript(s3, make_transcript("someone else"), owner=other)

    with pytest.raises(TranscriptInvalid, match="another upload"):
        postprocess(s3, REQUEST, OUT)


def test_a_newer_uploads_output_is_never_overwritten_even_when_it_lands_mid_write(s3: Any) -> None:
    # Given the check passes, and the newer upload lands and writes its output right after the check
    from pipeline.exact_upload import put_owned

    class RacingS3:
        """Lets the real client answer, but makes the newer upload land between the check and the write."""

        def __init__(self) -> None:
            self.raced = False

        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def put_object(self, **kwargs: Any) -> Any:
            if not self.raced:
                self.raced = True
                s3.put_object(Bucket=SOURCE.bucket, Key=SOURCE.key, Body=b"newer upload")
                s3.put_object(Bucket=OUT, Key="x/out.txt", Body=b"newer words")
            return s3.put_object(**kwargs)

    # When the older upload writes / Then its conditional write fails, it looks again and is superseded
    with pytest.raises(SourceSuperseded):
        put_owned(RacingS3(), SOURCE, OUT, "x/out.txt", b"older words", "text/plain")
    assert read(s3, "x/out.txt") == "newer words"


def test_a_retried_write_of_the_same_upload_overwrites_its_own_output(s3: Any) -> None:
    from pipeline.exact_upload import put_owned

    put_owned(s3, SOURCE, OUT, "x/out.txt", b"first try", "text/plain")
    put_owned(s3, SOURCE, OUT, "x/out.txt", b"second try", "text/plain")

    assert read(s3, "x/out.txt") == "second try"


def test_an_unreadable_transcript_is_reported_as_such_not_as_a_bare_access_error() -> None:
    from botocore.exceptions import ClientError

    class DeniedS3:
        def get_object(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    with pytest.raises(TranscriptInvalid, match="AccessDenied"):
        postprocess(DeniedS3(), REQUEST, OUT)


# ---------------------------------------------------------------- word confidence
def scored(confidences: list[float]) -> dict[str, Any]:
    """One segment of len(confidences) words, each with its confidence; the segment with their mean."""
    document = make_transcript(" ".join(f"w{i}" for i in range(len(confidences))) + ".")
    for word, value in zip(document["segments"][0]["words"], confidences, strict=True):
        word["confidence"] = value
    document["segments"][0]["confidence"] = sum(confidences) / len(confidences)
    document["words"] = list(document["segments"][0]["words"])
    document["schema_version"] = SCHEMA_VERSION
    return document


def test_the_summary_carries_the_share_of_low_confidence_words() -> None:
    # Given four words, one of them below the documented threshold
    low = LOW_CONFIDENCE_THRESHOLD - 0.01
    transcript = model(scored([0.99, low, LOW_CONFIDENCE_THRESHOLD, 0.8]))

    # Then a quarter of the words is low-confidence (the threshold itself is not "low")
    assert summarize(transcript).low_confidence_share == 0.25


def test_a_transcript_without_confidence_has_no_share_rather_than_zero() -> None:
    assert summarize(model(make_transcript("hello world."))).low_confidence_share is None


def test_the_segment_rows_carry_the_segments_confidence() -> None:
    rows = segment_rows(SOURCE, model(scored([0.9, 0.5])), TRANSCRIBED_AT)

    assert [r["confidence"] for r in rows] == [pytest.approx(0.7)]
    assert segment_rows(SOURCE, model(make_transcript("a.")), TRANSCRIBED_AT)[0]["confidence"] is None


def test_a_confidence_outside_zero_to_one_is_rejected() -> None:
    with pytest.raises(TranscriptInvalid, match="confidence"):
        validate_transcript(scored([1.5]))
