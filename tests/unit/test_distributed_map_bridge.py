"""Specification of the emulator's Distributed Map readers and ResultWriter (local_emulator.distributed_map,
gaps 16-17, 22)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import boto3
from moto import mock_aws

from local_emulator.distributed_map import aws_listing_item, inventory_items, list_all, write_results


@mock_aws
def test_a_listing_is_read_to_its_last_page_and_items_are_shaped_as_aws_hands_them_to_a_map() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="archive")
    for i in range(1005):  # more than one ListObjectsV2 page (1,000)
        s3.put_object(Bucket="archive", Key=f"p/{i:04d}.wav", Body=b"x")
    s3.put_object(Bucket="archive", Key="q/outside.wav", Body=b"x")
    items = list_all(s3, {"Bucket": "archive", "Prefix": "p/"})
    assert len(items) == 1005
    assert set(items[0]) == {"Key", "Etag", "Size", "LastModified", "StorageClass"}
    assert items[0]["Etag"].startswith('"') and isinstance(items[0]["LastModified"], int)
    json.dumps(items)  # plain JSON, as a state's input must be


def test_a_listing_item_keeps_a_missing_storage_class_standard() -> None:
    assert aws_listing_item({"Key": "k", "ETag": '"e"', "Size": 3})["StorageClass"] == "STANDARD"


@mock_aws
def test_an_inventory_manifest_yields_one_item_per_csv_row_keyed_by_its_schema() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="reports")
    rows = b'"src","k%20one","5"\n"src","k2","6"\n'
    s3.put_object(Bucket="reports", Key="d/a.csv.gz", Body=gzip.compress(rows))
    s3.put_object(Bucket="reports", Key="d/b.csv", Body=b'"src","k3","7"\n')
    manifest = {
        "destinationBucket": "arn:aws:s3:::reports",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "d/a.csv.gz"}, {"key": "d/b.csv"}],
    }
    items = inventory_items(s3, json.dumps(manifest))
    assert items == [
        {"Bucket": "src", "Key": "k%20one", "Size": "5"},
        {"Bucket": "src", "Key": "k2", "Size": "6"},
        {"Bucket": "src", "Key": "k3", "Size": "7"},
    ]


def body(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket="out", Key=key)["Body"].read())


@mock_aws
def test_the_local_result_writer_writes_the_files_aws_writes() -> None:
    # Given a map run whose second item failed
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="out")
    run = "arn:aws:states:us-east-1:123456789012:mapRun:m-backfill/BackfillPrefix:0f1e"
    items = [{"Key": "a.wav"}, {"Key": "b.wav"}, {"Key": "c.wav"}]
    outputs = [
        {"outcome": "transcribed", "reason": None},
        None,
        {"outcome": "skipped", "reason": "transcribed"},
    ]
    # When the ResultWriter runs
    result = write_results(s3, "out", "backfill-results/run-1", run, items, outputs)
    # Then the state's result names the manifest, which lists one SUCCEEDED and one FAILED file
    assert result == {
        "MapRunArn": run,
        "ResultWriterDetails": {"Bucket": "out", "Key": "backfill-results/run-1/0f1e/manifest.json"},
    }
    manifest = body(s3, result["ResultWriterDetails"]["Key"])
    assert manifest["DestinationBucket"] == "out" and manifest["MapRunArn"] == run
    files = manifest["ResultFiles"]
    assert [f["Key"] for f in files["SUCCEEDED"]] == ["backfill-results/run-1/0f1e/SUCCEEDED_0.json"]
    assert [f["Key"] for f in files["FAILED"]] == ["backfill-results/run-1/0f1e/FAILED_0.json"]
    assert files["PENDING"] == []
    succeeded = json.loads(s3.get_object(Bucket="out", Key=files["SUCCEEDED"][0]["Key"])["Body"].read())
    assert (
        files["SUCCEEDED"][0]["Size"]
        == s3.head_object(Bucket="out", Key=files["SUCCEEDED"][0]["Key"])["ContentLength"]
    )
    # and each entry is a child execution's record, its Output a JSON string
    assert [json.loads(e["Output"]) for e in succeeded] == [outputs[0], outputs[2]]
    assert {"ExecutionArn", "Input", "Output", "Status"} <= set(succeeded[0])
    assert succeeded[0]["Status"] == "SUCCEEDED"
    assert json.loads(succeeded[1]["Input"]) == {"Key": "c.wav"}
    [failed] = json.loads(s3.get_object(Bucket="out", Key=files["FAILED"][0]["Key"])["Body"].read())
    assert failed["Status"] == "FAILED" and "Output" not in failed and failed["Error"]


@mock_aws
def test_the_local_result_writer_splits_large_runs_into_numbered_files() -> None:
    from local_emulator.distributed_map import RESULTS_PER_FILE

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="out")
    outputs = [{"outcome": "transcribed", "reason": None}] * (RESULTS_PER_FILE + 1)
    result = write_results(s3, "out", "p/", "arn:aws:states:r:1:mapRun:m/L:id", [{}] * len(outputs), outputs)
    manifest = body(s3, result["ResultWriterDetails"]["Key"])
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [
        "p/id/SUCCEEDED_0.json",
        "p/id/SUCCEEDED_1.json",
    ]


@mock_aws
def test_the_local_result_writer_writes_json_lines_when_the_writer_config_asks() -> None:
    # Given the backfill's WriterConfig (JSONL, no transformation)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="out")
    outputs = [{"outcome": "transcribed", "reason": None}, None]
    result = write_results(
        s3,
        "out",
        "backfill-results/",
        "arn:aws:states:r:1:mapRun:m/L:id",
        [{}, {}],
        outputs,
        {"OutputType": "JSONL", "Transformation": "NONE"},
    )
    # Then each file holds one entry per line, the same entries the JSON array holds, the same manifest
    files = body(s3, result["ResultWriterDetails"]["Key"])["ResultFiles"]
    text = s3.get_object(Bucket="out", Key=files["SUCCEEDED"][0]["Key"])["Body"].read().decode()
    [line] = text.splitlines()
    assert text.endswith("\n") and json.loads(line)["Status"] == "SUCCEEDED"
    assert json.loads(json.loads(line)["Output"]) == outputs[0]
    assert result["ResultWriterDetails"]["Key"] == "backfill-results/id/manifest.json"


@mock_aws
def test_a_writer_config_the_emulator_does_not_write_is_refused_not_approximated() -> None:
    import pytest

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="out")
    with pytest.raises(ValueError, match="not emulated"):
        write_results(
            s3,
            "out",
            "p/",
            "arn:aws:states:r:1:mapRun:m/L:id",
            [{}],
            [{"a": 1}],
            {"OutputType": "JSONL", "Transformation": "COMPACT"},
        )


def test_the_writer_config_is_carried_where_moto_parses_it() -> None:
    from local_emulator.distributed_map import WRITER_CONFIG, carry_writer_config

    config = {"OutputType": "JSONL", "Transformation": "NONE"}
    definition = json.dumps(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ResultWriter": {
                        "Resource": "arn:aws:states:::s3:putObject",
                        "Parameters": {"Bucket": "b"},
                        WRITER_CONFIG: config,
                    },
                }
            },
        }
    )
    writer = json.loads(carry_writer_config(definition))["States"]["M"]["ResultWriter"]
    assert WRITER_CONFIG not in writer and writer["Parameters"] == {"Bucket": "b", WRITER_CONFIG: config}
    plain = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert carry_writer_config(plain) == plain
