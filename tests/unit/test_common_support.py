"""Test support shared by the function tests (moto env, catalog table, Lambda context), and its checks.

boto3 clients are created once per test module: building a client costs far more than a moto
mock session, and moto intercepts clients created before ``mock_aws()`` starts, resetting all
state between sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from lambda_runtime.clients import reset_clients
from moto import mock_aws
from pipeline.catalog import PARTITION_KEY, SORT_KEY

REGION = "eu-west-1"
TABLE = "catalog-test"
OUT = "out-bucket"
BASE_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "CATALOG_TABLE": TABLE,
    "OUTPUT_BUCKET": OUT,
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "Test",
    "POWERTOOLS_SERVICE_NAME": "unit-tests",
}


@dataclass
class FakeLambdaContext:
    """The attributes Powertools' ``inject_lambda_context`` reads (as in the Powertools testing docs)."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:test-function"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass(frozen=True)
class AwsClients:
    s3: Any
    dynamodb: Any


@contextmanager
def aws_environment(**overrides: str) -> Iterator[AwsClients]:
    """Fake credentials and our env vars for a test module, with boto3 clients built once."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**BASE_ENV, **overrides}.items():
            patch.setenv(name, value)
        reset_clients()
        yield AwsClients(
            s3=boto3.client("s3", region_name=REGION), dynamodb=boto3.resource("dynamodb", region_name=REGION)
        )
        reset_clients()


def create_catalog_table(dynamodb: Any, name: str = TABLE) -> Any:
    """The catalog table as docs/CONTRACTS.md keys it."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_bucket(s3: Any, name: str = OUT) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


# ---------------------------------------------------------------- checks of the support itself
def test_moto_state_does_not_leak_between_mock_sessions_sharing_a_client() -> None:
    with aws_environment() as clients:
        with mock_aws():
            create_bucket(clients.s3)
        with mock_aws():
            assert clients.s3.list_buckets()["Buckets"] == []


def test_the_fake_context_satisfies_powertools_logger() -> None:
    from lambda_runtime.observability import logger

    @logger.inject_lambda_context
    def handler(event: dict, context: Any) -> str:
        return "ok"

    assert handler({}, FakeLambdaContext()) == "ok"
