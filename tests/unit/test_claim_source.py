"""Specification of the Claim state (claim_source): exactly one execution per object version."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from claim_source.claim import claim
from moto import mock_aws
from pipeline.contracts import MISSING_ETAG, ClaimResult
from pipeline.outcomes import STATUS_CLAIMED, STATUS_FAILED, UnsupportedInput, ZeroByteObject
from pipeline.uploads import uploaded_object_from_event as source_from_event
from test_common_support import (
    REGION,
    AwsClients,
    FakeLambdaContext,
    create_catalog_table,
)


def s3_event(
    key: str = "talks/keynote%281%29+final.mp3",
    size: int | None = 1234,
    etag: str = '"abc123"',
    version_id: str | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": key, "etag": etag, "sequencer": "00"}
    if size is not None:
        obj["size"] = size
    if version_id is not None:
        obj["version-id"] = version_id
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-25T01:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:s3:::input-bucket"],
        "detail": {
            "version": "0",
            "bucket": {"name": "input-bucket"},
            "object": obj,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }


@pytest.fixture
def table(clients: AwsClients) -> Iterator[Any]:
    with mock_aws():
        yield create_catalog_table(clients.dynamodb)


# ---------------------------------------------------------------- reading the event
def test_the_key_is_url_decoded_and_the_etag_unquoted() -> None:
    source = source_from_event(s3_event())

    assert source.key == "talks/keynote(1) final.mp3"
    assert source.uri == "s3://input-bucket/talks/keynote(1) final.mp3"
    assert source.etag == "abc123"
    assert (source.bucket, source.size, source.version_id) == ("input-bucket", 1234, None)


def test_the_version_id_is_kept_when_the_bucket_is_versioned() -> None:
    assert source_from_event(s3_event(version_id="v-7")).version_id == "v-7"


def test_an_event_without_etag_gets_a_placeholder_sort_key() -> None:
    assert source_from_event(s3_event(etag="")).etag == MISSING_ETAG


def test_an_event_that_is_not_an_s3_event_is_unsupported_input() -> None:
    with pytest.raises(UnsupportedInput):
        source_from_event({"detail": {"foo": 1}})


# ---------------------------------------------------------------- claiming
def test_a_new_object_is_claimed_and_recorded(table: Any) -> None:
    source = source_from_event(s3_event())

    result = claim(table, source, "arn:exec:1")

    assert result == ClaimResult(claimed=True, source=source)
    item = table.get_item(Key={"source_uri": source.uri, "etag": "abc123"})["Item"]
    assert item["status"] == STATUS_CLAIMED
    assert item["execution_arn"] == "arn:exec:1"
    assert item["claimed_at"] == item["updated_at"]


def test_a_second_claim_of_the_same_bytes_is_not_claimed(table: Any) -> None:
    source = source_from_event(s3_event())
    claim(table, source, "arn:exec:1")

    second = claim(table, source, "arn:exec:2")

    assert second.claimed is False
    assert second.reason == "already_claimed"
    item = table.get_item(Key={"source_uri": source.uri, "etag": "abc123"})["Item"]
    assert item["execution_arn"] == "arn:exec:1"


def test_new_bytes_under_the_same_key_are_a_new_claim(table: Any) -> None:
    claim(table, source_from_event(s3_event(etag='"v1"')), "arn:exec:1")

    assert claim(table, source_from_event(s3_event(etag='"v2"')), "arn:exec:2").claimed is True


def test_a_failed_object_can_be_claimed_again(table: Any) -> None:
    source = source_from_event(s3_event())
    claim(table, source, "arn:exec:1")
    table.update_item(
        Key={"source_uri": source.uri, "etag": source.etag},
        UpdateExpression="SET #s = :f, reason = :r",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":f": STATUS_FAILED, ":r": "batch.job_failed"},
    )

    again = claim(table, source, "arn:exec:2")

    assert again.claimed is True
    item = table.get_item(Key={"source_uri": source.uri, "etag": source.etag})["Item"]
    assert (item["status"], item["execution_arn"]) == (STATUS_CLAIMED, "arn:exec:2")
    assert "reason" not in item


def test_a_superseded_object_uploaded_again_is_claimed_again(table: Any) -> None:
    # Given bytes whose first run was superseded (A, then B, then A's bytes again: the key holds A now)
    source = source_from_event(s3_event())
    table.put_item(Item={"source_uri": source.uri, "etag": source.etag, "status": "SUPERSEDED"})

    assert claim(table, source, "arn:exec:3").claimed is True


RESTORE = {
    "storage_class": "DEEP_ARCHIVE",
    "restore": "in_progress",
    "requested": "bulk",
    "tier": "Bulk",
    "days": 2,
}


def test_the_claim_after_a_restore_keeps_what_was_restored(table: Any) -> None:
    # Given bytes whose first run asked for a Bulk restore from Deep Archive (the row is RESTORING)
    source = source_from_event(s3_event())
    table.put_item(
        Item={"source_uri": source.uri, "etag": source.etag, "status": "RESTORING", "archive": RESTORE}
    )
    # When S3's restore-completed event starts the execution that claims it
    assert claim(table, source, "arn:exec:restored", "Object Restore Completed").claimed is True
    # Then the claim is the new execution's, and still says which archive and tier the bytes came from
    item = table.get_item(Key={"source_uri": source.uri, "etag": source.etag})["Item"]
    assert (item["status"], item["execution_arn"]) == (STATUS_CLAIMED, "arn:exec:restored")
    assert item["archive"] == RESTORE


def test_a_failed_row_claimed_again_keeps_no_archive(table: Any) -> None:
    # Given a FAILED row that still holds an archive (it had been restored, then failed)
    source = source_from_event(s3_event())
    table.put_item(
        Item={"source_uri": source.uri, "etag": source.etag, "status": STATUS_FAILED, "archive": RESTORE}
    )
    # When it is claimed again (a retry reads the still-restored copy: no new restore was made)
    assert claim(table, source, "arn:exec:retry").claimed is True
    # Then the claim carries nothing over
    assert "archive" not in table.get_item(Key={"source_uri": source.uri, "etag": source.etag})["Item"]


def test_a_retried_claim_of_the_same_execution_proceeds(table: Any) -> None:
    # Given a Claim whose first attempt wrote the item but whose answer was lost (the state retries)
    source = source_from_event(s3_event())
    claim(table, source, "arn:exec:1")

    assert claim(table, source, "arn:exec:1") == ClaimResult(claimed=True, source=source)


def test_the_event_sequencer_is_recorded(table: Any) -> None:
    source = source_from_event(s3_event())
    claim(table, source, "arn:exec:1")

    assert table.get_item(Key={"source_uri": source.uri, "etag": source.etag})["Item"]["sequencer"] == "00"


def test_a_transcribed_object_is_not_claimed_again(table: Any) -> None:
    source = source_from_event(s3_event())
    table.put_item(Item={"source_uri": source.uri, "etag": source.etag, "status": "TRANSCRIBED"})

    assert claim(table, source, "arn:exec:2").claimed is False


def _outputs_owned_by(clients: AwsClients, key: str, etag: str | None) -> str:
    """An output bucket whose transcript.json of ``key`` names ``etag`` as its owner (None: no transcript)."""
    bucket = "output-bucket"
    clients.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    if etag is not None:
        clients.s3.put_object(
            Bucket=bucket,
            Key=f"transcripts/{key}/transcript.json",
            Body=b"{}",
            Metadata={"source-etag": etag},
        )
    return bucket


@pytest.mark.parametrize(("owner", "claimed"), [("another-upload", True), ("abc123", False), (None, False)])
def test_a_transcribed_object_is_claimed_again_only_when_another_upload_owns_the_outputs(
    table: Any, clients: AwsClients, owner: str | None, claimed: bool
) -> None:
    # Given A transcribed, then (maybe) B's words in the key's outputs, then A's bytes uploaded again
    source = source_from_event(s3_event())
    table.put_item(Item={"source_uri": source.uri, "etag": source.etag, "status": "TRANSCRIBED"})
    bucket = _outputs_owned_by(clients, source.key, owner)
    # Then A is claimed again exactly when B owns the outputs (A, B, A); same words: AlreadyClaimed
    result = claim(table, source, "arn:exec:3", output_bucket=bucket, s3=NoInputCheck(clients.s3))
    assert result.claimed is claimed
    row = table.get_item(Key={"source_uri": source.uri, "etag": source.etag})["Item"]
    assert row["status"] == ("CLAIMED" if claimed else "TRANSCRIBED")


class NoInputCheck:
    """The S3 client with the input key always holding this upload (ensure_current's HeadObject)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        if Bucket == "input-bucket":
            return {"ETag": '"abc123"'}
        return dict(self.real.head_object(Bucket=Bucket, Key=Key))


def test_a_zero_byte_object_is_bad_input_and_not_claimed(table: Any) -> None:
    source = source_from_event(s3_event(size=0))

    with pytest.raises(ZeroByteObject):
        claim(table, source, "arn:exec:1")
    assert "Item" not in table.get_item(Key={"source_uri": source.uri, "etag": source.etag})


def test_a_folder_marker_is_ignored_with_a_reason(table: Any) -> None:
    source = source_from_event(s3_event(key="talks%2F", size=0))

    result = claim(table, source, "arn:exec:1")

    assert result.claimed is False
    assert result.reason == "folder_marker"
    assert table.scan()["Count"] == 0


# ---------------------------------------------------------------- the handler
def test_the_handler_takes_the_asl_payload_and_returns_plain_json(table: Any, clients: AwsClients) -> None:
    import json

    import claim_source.app

    etag = uploaded(clients, "talks/keynote(1) final.mp3", b"first")["ETag"]
    payload = {"event": s3_event(etag=etag), "execution_arn": "arn:aws:states:eu-west-1:1:execution:sm:run-1"}
    duplicate = {**payload, "execution_arn": "arn:aws:states:eu-west-1:1:execution:sm:run-2"}

    first = claim_source.app.handler(payload, FakeLambdaContext())
    retried = claim_source.app.handler(payload, FakeLambdaContext())  # the same execution's Retry
    second = claim_source.app.handler(duplicate, FakeLambdaContext())

    assert json.loads(json.dumps(first)) == first
    assert (first["claimed"], retried["claimed"], second["claimed"]) == (True, True, False)
    assert first["source"]["uri"] == "s3://input-bucket/talks/keynote(1) final.mp3"
    assert first["source"]["sequencer"] == "00"


def test_the_handler_refuses_an_event_for_an_upload_the_key_no_longer_holds(
    table: Any, clients: AwsClients
) -> None:
    # Given an upload whose event arrives after the key was overwritten (late or out of order)
    import claim_source.app
    from pipeline.outcomes import SourceSuperseded

    old = uploaded(clients, "talks/keynote(1) final.mp3", b"first")["ETag"]
    new = uploaded(clients, "talks/keynote(1) final.mp3", b"second")["ETag"]
    payload = {"event": s3_event(etag=old), "execution_arn": "arn:exec:late"}

    # When claimed / Then it is superseded at once, naming what the key holds, and nothing is claimed
    with pytest.raises(SourceSuperseded) as raised:
        claim_source.app.handler(payload, FakeLambdaContext())
    assert raised.value.superseded_by == {"etag": new.strip('"'), "version_id": None, "deleted": False}
    assert table.scan()["Count"] == 0


def uploaded(clients: AwsClients, key: str, body: bytes) -> dict[str, Any]:
    with contextlib.suppress(clients.s3.exceptions.BucketAlreadyOwnedByYou):
        clients.s3.create_bucket(
            Bucket="input-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    return clients.s3.put_object(Bucket="input-bucket", Key=key, Body=body)


def test_a_payload_that_is_not_the_claim_request_is_rejected_by_the_parser(table: Any) -> None:
    # The ASL always sends {event, execution_arn}: a bare event breaks our own contract (internal)
    import claim_source.app
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        claim_source.app.handler(s3_event(), FakeLambdaContext())


def test_an_execution_input_that_is_not_an_s3_event_is_unsupported_input(table: Any) -> None:
    # Given an execution started by hand with something else: the input's fault, recorded as bad input
    import claim_source.app

    with pytest.raises(UnsupportedInput):
        claim_source.app.handler({"event": {"detail": {"foo": 1}}}, FakeLambdaContext())


def test_an_event_other_than_object_created_is_ignored_with_a_reason(table: Any) -> None:
    event = s3_event(size=None, etag="")
    event["detail-type"] = "Object Deleted"

    result = claim(table, source_from_event(event), "arn:exec:1", event["detail-type"])

    assert (result.claimed, result.reason) == (False, "not_object_created")
    assert table.scan()["Count"] == 0


def test_a_size_that_is_not_a_number_is_unsupported_input() -> None:
    with pytest.raises(UnsupportedInput):
        source_from_event(s3_event(size="big"))  # type: ignore[arg-type]


def test_the_handler_ignores_deleted_object_events(table: Any) -> None:
    import claim_source.app

    event = s3_event()
    event["detail-type"] = "Object Deleted"

    assert claim_source.app.handler({"event": event}, FakeLambdaContext())["reason"] == "not_object_created"


def test_an_object_created_event_without_etag_is_read_as_the_placeholder() -> None:
    assert source_from_event(s3_event(etag="")).if_match_etag is None
