"""Specification of the emulator's Distributed Map readers (local_emulator.distributed_map, gaps 16-17)."""

from __future__ import annotations

import gzip
import json

import boto3
from moto import mock_aws

from local_emulator.distributed_map import aws_listing_item, inventory_items, list_all


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
    manifest = {"destinationBucket": "arn:aws:s3:::reports", "fileFormat": "CSV",
                "fileSchema": "Bucket, Key, Size",
                "files": [{"key": "d/a.csv.gz"}, {"key": "d/b.csv"}]}
    items = inventory_items(s3, json.dumps(manifest))
    assert items == [{"Bucket": "src", "Key": "k%20one", "Size": "5"},
                     {"Bucket": "src", "Key": "k2", "Size": "6"}, {"Bucket": "src", "Key": "k3", "Size": "7"}]
