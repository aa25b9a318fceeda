"""Specification of the Index state: the catalog item becomes TRANSCRIBED with cost and outputs.

Index reads nothing from S3 but one HeadObject of the input key (does it still hold this upload?):
everything comes from its IndexRequest (the plan, the job, and the summary Postprocess took from
transcript.json). Then it puts the ``Transcript Ready`` completion event on EventBridge.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from index_transcript.index import NotClaimedHere, estimate_cost_usd, index, ready_event
from moto import mock_aws
from pipeline.contracts import CompletionEvent, IndexRequest, UploadedObject
from pipeline.events import entry, put_completion_event
from pipeline.outcomes import STATUS_CLAIMED, STATUS_TRANSCRIBED, SourceSuperseded, TransientError
from test_common_support import REGION, AwsClients, FakeLambdaContext, create_catalog_table

from tests.contract_examples import TIMINGS, job_done, planned, postprocessed, uploaded

SOURCE = uploaded()
PLAN = planned(SOURCE)


def index_request(**changes: Any) -> IndexRequest:
    fields = {"source": SOURCE, "plan": PLAN, "job": job_done(), "postprocess": postprocessed(PLAN)}
    return IndexRequest(**{**fields, **changes})


@pytest.fixture
def table(clients: AwsClients) -> Iterator[Any]:
    # Only DynamoDB is mocked with data: an S3 read would find no transcript anywhere
    with mock_aws():
        table = create_catalog_table(clients.dynamodb)
        claimed = {
            "status": STATUS_CLAIMED,
            "execution_arn": "arn:exec:1",
            "claimed_at": "2026-11-25T01:00:00.000Z",
        }
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


def test_the_transcripts_channel_use_and_warnings_reach_the_row_and_the_event(table: Any) -> None:
    # Given a stereo upload whose mix would cancel: one channel was transcribed, with a warning
    done = postprocessed(PLAN)
    warning = "the channels cancel when mixed (-40 dB): channel 1 (left) transcribed alone"
    summary = done.summary.model_copy(update={"channel_mode_used": "channel", "warnings": [warning]})
    request = index_request(postprocess=done.model_copy(update={"summary": summary}))

    # When Index marks it
    item = index(table, request)

    # Then the catalog row and the Ready event say so, so nobody has to open transcript.json to learn it
    assert (item.channel_mode_used, item.warnings) == ("channel", [warning])
    assert ready_event(request, item).warnings == [warning]


def test_the_share_of_low_confidence_words_reaches_the_row(table: Any) -> None:
    done = postprocessed(PLAN)
    summary = done.summary.model_copy(update={"low_confidence_share": 0.125})

    item = index(table, index_request(postprocess=done.model_copy(update={"summary": summary})))

    assert item.low_confidence_share == 0.125


def test_a_row_without_warnings_stores_none(table: Any) -> None:
    item = index(table, index_request())

    assert item.warnings is None and item.channel_mode_used is None
    assert item.low_confidence_share is None  # the example summary's words carry no confidence


def test_the_stored_item_uses_decimals(table: Any) -> None:
    index(table, index_request())

    stored = table.get_item(Key={"source_uri": SOURCE.uri, "etag": SOURCE.etag})["Item"]
    assert isinstance(stored["cost_estimate_usd"], Decimal)
    assert stored["timings"]["inference"] == Decimal("300.125")


def put_input(clients: AwsClients, body: bytes = b"audio") -> UploadedObject:
    """The uploaded object in (mocked) S3, as the workflow's source names it."""
    clients.s3.create_bucket(Bucket=SOURCE.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    etag = clients.s3.put_object(Bucket=SOURCE.bucket, Key=SOURCE.key, Body=body)["ETag"].strip('"')
    return SOURCE.model_copy(update={"etag": etag})


def completion_queue(clients: AwsClients) -> str:
    """An SQS queue subscribed to the pipeline's completion events on the default bus."""
    sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="completions")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="completions", EventPattern=json.dumps({"source": ["parakeet.transcription"]}))
    events.put_targets(Rule="completions", Targets=[{"Id": "q", "Arn": arn}])
    return url


def received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_the_handler_parses_the_index_request_returns_plain_json_and_announces_it(
    table: Any, clients: AwsClients
) -> None:
    import index_transcript.app

    source = put_input(clients)
    table.put_item(
        Item={
            "source_uri": source.uri,
            "etag": source.etag,
            "status": STATUS_CLAIMED,
            "execution_arn": "arn:exec:1",
        }
    )
    queue = completion_queue(clients)
    event = index_request(source=source, execution_arn="arn:exec:1").model_dump(mode="json")

    item = index_transcript.app.handler(event, FakeLambdaContext())

    assert json.loads(json.dumps(item)) == item
    assert (item["status"], item["source_uri"], item["etag"]) == (STATUS_TRANSCRIBED, source.uri, source.etag)
    [ready] = received(queue)
    assert (ready["source"], ready["detail-type"]) == ("parakeet.transcription", "Transcript Ready")
    detail = CompletionEvent.model_validate(ready["detail"])
    assert detail.upload == source
    assert (detail.status, detail.execution_arn, detail.word_count) == ("TRANSCRIBED", "arn:exec:1", 2)
    assert detail.outputs == postprocessed(PLAN).outputs
    assert detail.cost_estimate_usd == item["cost_estimate_usd"]


def test_an_upload_the_key_no_longer_holds_is_not_marked_transcribed(table: Any, clients: AwsClients) -> None:
    # Given the key was overwritten after Postprocess
    source = put_input(clients, b"first")
    clients.s3.put_object(Bucket=source.bucket, Key=source.key, Body=b"second")

    # When indexed / Then SourceSuperseded, and the row still says CLAIMED
    with pytest.raises(SourceSuperseded):
        index(table, index_request(source=source), s3=clients.s3)
    stored = table.get_item(Key={"source_uri": SOURCE.uri, "etag": SOURCE.etag})["Item"]
    assert stored["status"] == STATUS_CLAIMED


def test_only_the_claiming_execution_marks_its_row(table: Any) -> None:
    with pytest.raises(NotClaimedHere):
        index(table, index_request(execution_arn="arn:exec:other"))

    assert index(table, index_request(execution_arn="arn:exec:1")).status == STATUS_TRANSCRIBED


def test_a_refused_event_is_a_transient_error_for_the_state_to_retry() -> None:
    class Refusing:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            refused = {"ErrorCode": "ThrottlingException", "ErrorMessage": "x"}
            return {"FailedEntryCount": 1, "Entries": [refused]}

    class Broken:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            raise ConnectionError("endpoint down")

    event = CompletionEvent(status="TRANSCRIBED", upload=SOURCE)
    for client in (Refusing(), Broken()):
        with pytest.raises(TransientError):
            put_completion_event(client, event, bus="default")


def test_the_event_entry_names_source_detail_type_and_bus() -> None:
    event = CompletionEvent(status="SUPERSEDED", upload=SOURCE, reason="superseded")

    sent = entry(event, "my-bus")

    assert (sent["Source"], sent["DetailType"], sent["EventBusName"]) == (
        "parakeet.transcription",
        "Transcript Superseded",
        "my-bus",
    )
    assert sent["Resources"] == ["arn:aws:s3:::media-in"]
    assert CompletionEvent.model_validate_json(sent["Detail"]) == event


def test_the_old_payload_with_probe_and_batch_breaks_the_contract(table: Any) -> None:
    # A state sending a shape the model does not declare is our bug (internal), not bad input
    import index_transcript.app
    from pydantic import ValidationError

    event = {**index_request().model_dump(mode="json"), "batch": {"JobId": "j"}}
    with pytest.raises(ValidationError):
        index_transcript.app.handler(event, FakeLambdaContext())
