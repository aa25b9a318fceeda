"""Specification of the shared helpers in functions/common: S3 URIs, catalog values, layout, GPU classes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from common.catalog import from_dynamo, to_dynamo, utc_now_iso
from common.gpu_classes import GPU_CLASSES, SIZE_ORDER, price_per_hour
from common.layout import output_file, output_prefix, segments_uri
from common.s3uri import format_s3_uri, join_s3_uri, parse_s3_uri


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
    assert segments_uri("out", "a/b.mp3") == "s3://out/segments/a/b.mp3.jsonl"


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
