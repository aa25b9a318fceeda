"""Specification of the shared helpers in functions/pipeline: S3 URIs, catalog values, layout, GPU classes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pipeline.catalog import from_dynamo, set_expression, to_dynamo, utc_now_iso
from pipeline.exact_upload import output_file, output_prefix, segments_uri
from pipeline.gpu_classes import GPU_CLASSES, SIZE_ORDER, price_per_hour
from pipeline.s3uri import format_s3_uri, join_s3_uri, parse_s3_uri
from pipeline.transcript import TranscriptDocument
from pipeline.transcript_reader import TranscriptInvalid, validate_transcript

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "functions" / "pipeline" / "transcript.schema.json"


@pytest.mark.parametrize(
    ("uri", "bucket", "key"),
    [
        ("s3://b/k", "b", "k"),
        ("s3://b/a/b c/d.mp3", "b", "a/b c/d.mp3"),
        ("s3://b/", "b", ""),
        ("s3://b", "b", ""),
    ],
)
def test_s3_uris_split_into_bucket_and_verbatim_key(uri: str, bucket: str, key: str) -> None:
    assert parse_s3_uri(uri) == (bucket, key)


@pytest.mark.parametrize("uri", ["", "http://b/k", "s3:///k", None])
def test_things_that_are_not_s3_uris_are_rejected(uri: object) -> None:
    with pytest.raises(ValueError):
        parse_s3_uri(uri)  # type: ignore[arg-type]


def test_format_and_parse_round_trip_and_join_tolerates_a_missing_slash() -> None:
    assert parse_s3_uri(format_s3_uri("b", "x/y z")) == ("b", "x/y z")
    assert join_s3_uri("s3://b/p/", "f") == join_s3_uri("s3://b/p", "f") == "s3://b/p/f"


def test_output_layout_mirrors_the_source_key() -> None:
    prefix = output_prefix("out", "a/b.mp3")

    assert prefix == "s3://out/transcripts/a/b.mp3/"
    assert output_file(prefix, "transcript.json") == "s3://out/transcripts/a/b.mp3/transcript.json"
    # And the segments file sits in the date partition of its transcription time (UTC)
    assert segments_uri("out", "a/b.mp3", "2026-12-02T23:59:59.999Z") == (
        "s3://out/segments/dt=2026-12-02/a/b.mp3.jsonl"
    )


def test_floats_become_decimals_for_dynamodb_and_come_back_as_json_numbers() -> None:
    value = {"a": 0.1, "b": [1, 2.5, {"c": 3.0}], "d": True, "e": None, "f": "x"}

    stored = to_dynamo(value)

    assert stored == {
        "a": Decimal("0.1"),
        "b": [1, Decimal("2.5"), {"c": Decimal("3.0")}],
        "d": True,
        "e": None,
        "f": "x",
    }
    back = from_dynamo(stored)
    assert back == {"a": 0.1, "b": [1, 2.5, {"c": 3}], "d": True, "e": None, "f": "x"}
    assert json.loads(json.dumps(back)) == back


def test_non_finite_floats_are_stored_as_null() -> None:
    assert to_dynamo([float("nan"), float("inf")]) == [None, None]


def test_dynamodb_sets_come_back_as_sorted_lists() -> None:
    assert from_dynamo({"s": {"b", "a"}}) == {"s": ["a", "b"]}


def test_timestamps_are_utc_iso_with_milliseconds() -> None:
    stamp = utc_now_iso()

    assert stamp.endswith("Z") and len(stamp) == len("2026-11-25T02:00:00.000Z")


def test_gpu_classes_grow_in_memory_and_price_in_size_order() -> None:
    classes = [GPU_CLASSES[name] for name in SIZE_ORDER]

    assert [c.gpu_memory_gb for c in classes] == sorted(c.gpu_memory_gb for c in classes)
    assert [c.price_per_hour_usd for c in classes] == sorted(c.price_per_hour_usd for c in classes)
    assert price_per_hour("small") == GPU_CLASSES["small"].price_per_hour_usd
    assert price_per_hour("huge") is None


# ---------------------------------------------------------------- transcript validation
def valid_transcript() -> dict:
    word = {"start": 0.0, "end": 0.5, "word": "hello"}
    return {
        "schema_version": "1.1",
        "source": {"uri": "s3://b/k", "etag": "e", "size": 1},
        "media": {"duration_s": 1.0, "codec": "mp3", "sample_rate": 16000, "channels": 1},
        "model": {"name": "m", "revision": None},
        "mode": "full",
        "chunking": None,
        "language": "en",
        "text": "hello",
        "segments": [{"id": 0, "start": 0.0, "end": 0.5, "text": "hello", "words": [dict(word)]}],
        "words": [dict(word)],
        "timings": {"download": 0, "decode": 0, "load": 0, "inference": 0, "total": 0},
        "hardware": {"device": "cpu"},
    }


# mutation of one word -> whether schema 1.0 still accepts the document
WORD_MUTATIONS = {
    "valid": (lambda w: None, True),
    "extra property": (lambda w: w.update(confidence=0.9), True),
    "integer times": (lambda w: w.update(start=0, end=1), True),
    "missing end": (lambda w: w.pop("end"), False),
    "missing word": (lambda w: w.pop("word"), False),
    "negative start": (lambda w: w.update(start=-0.1), False),
    "string start": (lambda w: w.update(start="0.1"), False),
    "boolean end": (lambda w: w.update(end=True), False),
    "null end": (lambda w: w.update(end=None), False),
    "numeric word": (lambda w: w.update(word=5), False),
}


def mutated(mutation: str, where: str) -> dict:
    document = valid_transcript()
    word = document["words"][0] if where == "words" else document["segments"][0]["words"][0]
    WORD_MUTATIONS[mutation][0](word)
    return document


@pytest.mark.parametrize("where", ["words", "segments"])
@pytest.mark.parametrize("mutation", list(WORD_MUTATIONS))
def test_a_word_is_accepted_exactly_when_schema_1_0_allows_it(mutation: str, where: str) -> None:
    # Given a transcript whose one word is mutated, either in the flat list or inside a segment
    document = mutated(mutation, where)
    # When validated (as parsed JSON and as the raw bytes), Then it is accepted exactly when allowed
    for given in (document, json.dumps(document).encode()):
        if WORD_MUTATIONS[mutation][1]:
            assert validate_transcript(given) == TranscriptDocument.model_validate(document)
        else:
            with pytest.raises(TranscriptInvalid, match=where):
                validate_transcript(given)


@pytest.mark.parametrize("where", ["words", "segments"])
@pytest.mark.parametrize("mutation", list(WORD_MUTATIONS))
def test_the_generated_json_schema_judges_words_like_the_model(mutation: str, where: str) -> None:
    # transcript.schema.json is generated from the model for operators and other languages: it must agree
    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))

    assert validator.is_valid(mutated(mutation, where)) is WORD_MUTATIONS[mutation][1]


def twenty_hour_transcript() -> bytes:
    """~200k words, each listed twice (per segment and flat), as gpu_job writes them: ~23 MB of JSON."""
    words = [
        {"start": round(i * 0.36, 3), "end": round(i * 0.36 + 0.3, 3), "word": "word"} for i in range(200_000)
    ]
    segments = [
        {
            "id": j,
            "start": words[j * 20]["start"],
            "end": words[j * 20 + 19]["end"],
            "text": "words",
            "words": words[j * 20 : j * 20 + 20],
        }
        for j in range(10_000)
    ]
    document = {**valid_transcript(), "segments": segments, "words": words}
    document["media"] = {**document["media"], "duration_s": 72000.0}
    return json.dumps(document).encode()


@pytest.mark.slow  # ~23 MB of JSON validated twice (make unit leaves it to make test)
def test_a_twenty_hour_transcript_is_validated_word_by_word() -> None:
    # Given the JSON of a 20 h transcript (its validation time is benchmarks/transcript_validation.py's)
    body = twenty_hour_transcript()
    # When validated from the bytes, as Postprocess does, then every word and segment is there
    document = validate_transcript(body)
    assert len(document.words) == 200_000 and len(document.segments) == 10_000
    # And the very last word of the document is checked too: one bad word there rejects it
    last = body.rindex(b'"word": "word"')
    broken = body[:last] + b'"word": 7' + body[last + len(b'"word": "word"') :]
    with pytest.raises(TranscriptInvalid, match="word"):
        validate_transcript(broken)


def test_a_word_that_is_not_an_object_is_rejected() -> None:
    document = valid_transcript()
    document["words"] = ["hello"]

    with pytest.raises(TranscriptInvalid, match="words/0"):
        validate_transcript(document)


def test_structural_errors_outside_words_are_reported_by_path() -> None:
    document = valid_transcript()
    document["mode"] = "turbo"
    del document["hardware"]

    with pytest.raises(TranscriptInvalid, match="hardware") as raised:
        validate_transcript(document)
    assert "mode" in str(raised.value)


def test_set_expressions_use_placeholders_for_reserved_words_and_decimals_for_floats() -> None:
    expression, names, values = set_expression({"status": "FAILED", "duration_s": 1.5})

    assert expression == "SET #a0 = :v0, #a1 = :v1"
    assert names == {"#a0": "status", "#a1": "duration_s"}
    assert values == {":v0": "FAILED", ":v1": Decimal("1.5")}
