"""AWS clients created once per Lambda container, lazily.

Lazily so that importing a handler never needs AWS configuration (unit tests, the local
emulator); once so that warm invocations reuse connections. Logic modules never call these:
handlers pass the client in, which keeps the logic testable with any stub.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3


@cache
def s3_client() -> Any:
    return boto3.client("s3")


@cache
def sqs_client() -> Any:
    return boto3.client("sqs")


@cache
def batch_client() -> Any:
    return boto3.client("batch")


@cache
def stepfunctions_client() -> Any:
    return boto3.client("stepfunctions")


@cache
def events_client() -> Any:
    return boto3.client("events")


@cache
def catalog_table() -> Any:
    """The catalog table named by ``CATALOG_TABLE`` (boto3 resource: it serialises Python types for us)."""
    return boto3.resource("dynamodb").Table(os.environ["CATALOG_TABLE"])


@cache
def pool_scaler_lease_table() -> Any:
    """The scaler's lease table named by ``POOL_SCALER_LEASE_TABLE`` (scale_pool.lease)."""
    return boto3.resource("dynamodb").Table(os.environ["POOL_SCALER_LEASE_TABLE"])


def reset_clients() -> None:
    """Forget cached clients (tests and the local emulator switch mocked accounts and env between runs)."""
    s3_client.cache_clear()
    sqs_client.cache_clear()
    batch_client.cache_clear()
    stepfunctions_client.cache_clear()
    events_client.cache_clear()
    catalog_table.cache_clear()
    pool_scaler_lease_table.cache_clear()
