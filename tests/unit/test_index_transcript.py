"""Specification of the Index state: the catalog item becomes TRANSCRIBED with cost and outputs.

Index reads nothing from S3: everything comes from its IndexRequest (the plan, the job, and the
summary Postprocess took from transcript.json).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from common.catalog import STATUS_CLAIMED, STATUS_TRANSCRIBED
from contracts.models import IndexRequest
from index_transcript.index import estimate_cost_usd, index
from moto import mock_aws
from test_common_support import AwsClients, FakeLambdaContext, aws_environment, create_catalog_table

from tests.contract_examples import TIMINGS, job_done, planned, postprocessed, uploaded

SOURCE = uploaded()
PLAN = planned(SOURCE)


def index_request(**changes: Any) -> IndexRequest:
    fields = {"source": SOURCE, "plan": PLAN, "job": job_done(), "postprocess": postprocessed(PLAN)}
    return IndexRequest(**{**fields, **changes})


@pytest.fixture(scope="module")
def clients() -> Iterator[AwsClients]:
    with aws_environment() as built:
        yield built


@pytest.fixture
def table(clients: AwsClients) -> Iterator[Any]:
    # Only DynamoDB is mocked with data: an S3 read would find no transcript anywhere
    with mock_aws():
        table = create_catalog_table(clients.dynamodb)
        claimed = {"status": STATUS_CLAIMED, "execution_arn": "arn:exec:1",
                   "claimed_at": "2026-11-25T01:00:00.000Z"}  # fmt: skip
        table.put_item(Item={"source_uri": SOURCE.uri, "etag": SOURCE.etag, **claimed})
        yield table


def test_cost_is_job_time_times_the_hourly_price() -> None:
    assert estimate_cost_usd(3600.0, 0.8) == pytest.approx(0.8)
    assert estimate_cost_usd(1800, 2.0) == pytest.approx(1.0)


def test_index_marks_the_item_transcribed_with_everything_a_query_needs(table: Any) -> None:
    # Given a batched plan (the default) on the small class, a finished job and Postprocess's summary
    item = index(table, index_request())

    # Then the row says TRANSCRIBED with language, decoded duration, timings, cost, outputs and job
    assert item.status == STATUS_TRANSCRIBED
    assert (item.language, item.mode, item.size_class) == ("de", "batched", "small")
    assert item.duration_s == 3599.5
    assert item.timings is not None and item.timings.model_dump() == TIMINGS
    expected_cost = TIMINGS["total"] * PLAN.price_per_hour_usd / 3600
    assert item.cost_estimate_usd == pytest.approx(expected_cost, abs=1e-6)
    assert item.outputs == postprocessed(PLAN).outputs
    assert (item.batch_job_id, item.instance_types, item.word_count) == ("job-9", ["g6.xlarge"], 2)
    # And the claim's attributes are kept
    assert item.execution_arn == "arn:exec:1"
    assert item.updated_at is not None and item.claimed_at is not None and item.updated_at > item.claimed_at


def test_the_stored_item_uses_decimals(table: Any) -> None:
    index(table, index_request())

    stored = table.get_item(Key={"source_uri": SOURCE.uri, "etag": SOURCE.etag})["Item"]
    assert isinstance(stored["cost_estimate_usd"], Decimal)
    assert stored["timings"]["inference"] == Decimal("300.125")


def test_the_handler_parses_the_index_request_and_returns_plain_json(table: Any) -> None:
    import index_transcript.app

    event = index_request().model_dump(mode="json")
    item = index_transcript.app.handler(event, FakeLambdaContext())

    assert json.loads(json.dumps(item)) == item
    assert (item["status"], item["source_uri"], item["etag"]) == (STATUS_TRANSCRIBED, SOURCE.uri, SOURCE.etag)


def test_the_old_payload_with_probe_and_batch_breaks_the_contract(table: Any) -> None:
    # A state sending a shape the model does not declare is our bug (internal), not bad input
    import index_transcript.app
    from pydantic import ValidationError

    event = {**index_request().model_dump(mode="json"), "batch": {"JobId": "j"}}
    with pytest.raises(ValidationError):
        index_transcript.app.handler(event, FakeLambdaContext())
