"""Fixtures shared by the unit specifications: moto's AWS behind the functions' own clients.

A module that needs other environment values (ARNs, say) or other buckets defines its own ``clients``
or ``aws``; pytest takes the nearest definition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.unit.test_common_support import AwsClients, aws_environment, create_bucket, create_catalog_table


@pytest.fixture(scope="module")
def clients() -> Iterator[AwsClients]:
    """Fake credentials and the functions' environment for a test module, with the boto3 clients the
    tests drive (built once a module: creating clients is what costs)."""
    with aws_environment() as built:
        yield built


@pytest.fixture
def aws(clients: AwsClients) -> Iterator[tuple[Any, Any]]:
    """moto's AWS holding the output bucket and the catalog table: ``(table, s3)``."""
    with mock_aws():
        create_bucket(clients.s3)
        yield create_catalog_table(clients.dynamodb), clients.s3
