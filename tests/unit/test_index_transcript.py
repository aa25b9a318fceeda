"""Specification of the Index state: the catalog item becomes TRANSCRIBED with cost and outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from common.catalog import STATUS_CLAIMED, STATUS_TRANSCRIBED
from common.gpu_classes import GPU_CLASSES
from common.transcript import TranscriptInvalid
from index_transcript.index import batch_job_id, estimate_cost_usd, index
from moto import mock_aws
from test_common_support import (
    OUT,
    AwsClients,
    FakeLambdaContext,
    aws_environment,
    create_bucket,
    create_catalog_table,
)

SOURCE = {
    "bucket": "in",
    "key": "a.mp3",
    "etag": "abc",
    "size": 10,
    "version_id": None,
    "uri": "s3://in/a.mp3",
}
PREFIX = f"s3://{OUT}/transcripts/a.mp3/"
PLAN = {
    "mode": "local_attention",
    "size_class": "small",
    "instance_types": ["g6.xlarge"],
    "output_prefix": PREFIX,
    "job_name": "transcribe-a-mp3-123",
    "price_per_hour_usd": 0.8048,
}
OUTPUTS = {
    name: PREFIX + f"transcript.{ext}"
    for name, ext in (("transcript_json", "json"), ("srt", "srt"), ("vtt", "vtt"), ("txt", "txt"))
}
OUTPUTS["segments_jsonl"] = f"s3://{OUT}/segments/a.mp3.jsonl"
TIMINGS = {"download": 1.5, "decode": 2.25, "load": 12.0, "inference": 300.125, "total": 316.0}


def transcript_document() -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "source": {"uri": SOURCE["uri"], "etag": "abc", "size": 10},
        "media": {"duration_s": 3599.5, "codec": "mp3", "sample_rate": 44100, "channels": 2},
        "model": {"name": "nvidia/parakeet-tdt-0.6b-v3", "revision": None},
        "mode": "local_attention",
        "chunking": None,
        "language": "de",
        "text": "hallo welt",
        "segments": [
            {
                "id": 0,
                "start": 0.0,
                "end": 1.0,
                "text": "hallo welt",
                "words": [
                    {"start": 0.0, "end": 0.4, "word": "hallo"},
                    {"start": 0.5, "end": 1.0, "word": "welt"},
                ],
            }
        ],
        "words": [{"start": 0.0, "end": 0.4, "word": "hallo"}, {"start": 0.5, "end": 1.0, "word": "welt"}],
        "timings": TIMINGS,
        "hardware": {"device": "cuda", "gpu": "NVIDIA L4", "dtype": "bfloat16"},
    }


@pytest.fixture(scope="module")
def clients() -> Iterator[AwsClients]:
    with aws_environment() as built:
        yield built


@pytest.fixture
def aws(clients: AwsClients) -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        create_bucket(clients.s3)
        clients.s3.put_object(
            Bucket=OUT, Key="transcripts/a.mp3/transcript.json", Body=json.dumps(transcript_document())
        )
        table = create_catalog_table(clients.dynamodb)
        claimed = {
            "status": STATUS_CLAIMED,
            "execution_arn": "arn:exec:1",
            "claimed_at": "2026-11-25T01:00:00.000Z",
        }
        table.put_item(Item={"source_uri": SOURCE["uri"], "etag": "abc", **claimed})
        yield table, clients.s3


def test_cost_is_job_time_times_the_hourly_price() -> None:
    assert estimate_cost_usd({"total": 3600.0}, 0.8) == pytest.approx(0.8)
    assert estimate_cost_usd({"total": 1800}, 2.0) == pytest.approx(1.0)
    assert estimate_cost_usd({}, 0.8) is None
    assert estimate_cost_usd({"total": 10.0}, None) is None


def test_the_batch_job_id_is_read_from_the_job_result_or_a_raw_description() -> None:
    assert batch_job_id({"job_id": "j-0", "status": "SUCCEEDED"}) == "j-0"
    assert batch_job_id({"JobId": "j-1", "Status": "SUCCEEDED"}) == "j-1"
    assert batch_job_id({"jobId": "j-2"}) == "j-2"
    assert batch_job_id(None) is None


def test_index_marks_the_item_transcribed_with_everything_a_query_needs(aws: tuple[Any, Any]) -> None:
    table, s3 = aws

    item = index(
        table, s3, SOURCE, {"duration_s": 3600.0}, PLAN, {"JobId": "job-9", "Status": "SUCCEEDED"}, OUTPUTS
    )

    assert item["status"] == STATUS_TRANSCRIBED
    assert (item["language"], item["mode"], item["size_class"]) == ("de", "local_attention", "small")
    assert (
        item["duration_s"] == 3599.5
    )  # the decoded length from the transcript wins over the probe's estimate
    assert item["timings"] == TIMINGS
    assert item["cost_estimate_usd"] == pytest.approx(TIMINGS["total"] * 0.8048 / 3600, abs=1e-6)
    assert item["outputs"] == OUTPUTS
    assert (item["batch_job_id"], item["instance_types"]) == ("job-9", ["g6.xlarge"])
    assert item["execution_arn"] == "arn:exec:1"  # the claim's attributes are kept
    assert item["updated_at"] > item["claimed_at"]


def test_a_pool_file_is_priced_by_its_share_of_the_worker_gpu_time(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    job = {"job_id": "pool-worker-7", "status": "SUCCEEDED", "gpu_seconds": 1.5, "batch_files": 10}

    item = index(table, s3, SOURCE, {}, PLAN, job, OUTPUTS)

    # Its share of the worker's time, not its transcript's timings.total (which would include the load)
    assert item["cost_estimate_usd"] == pytest.approx(1.5 * 0.8048 / 3600, abs=1e-6)
    assert TIMINGS["total"] != 1.5
    assert (item["batch_job_id"], item["gpu_seconds"]) == ("pool-worker-7", 1.5)


def test_the_returned_item_is_plain_json_and_the_stored_one_uses_decimals(aws: tuple[Any, Any]) -> None:
    table, s3 = aws

    item = index(table, s3, SOURCE, {}, PLAN, {"JobId": "job-9"}, OUTPUTS)

    assert json.loads(json.dumps(item)) == item
    stored = table.get_item(Key={"source_uri": SOURCE["uri"], "etag": "abc"})["Item"]
    assert isinstance(stored["cost_estimate_usd"], Decimal)
    assert stored["timings"]["inference"] == Decimal("300.125")


def test_without_a_price_in_the_plan_the_size_class_table_is_used(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    plan = {k: v for k, v in PLAN.items() if k != "price_per_hour_usd"} | {"size_class": "large"}

    item = index(table, s3, SOURCE, {}, plan, None, OUTPUTS)

    expected = TIMINGS["total"] * GPU_CLASSES["large"].price_per_hour_usd / 3600
    assert item["cost_estimate_usd"] == pytest.approx(expected, abs=1e-6)
    assert "batch_job_id" not in item


def test_a_missing_transcript_fails_index_as_an_internal_error(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    s3.delete_object(Bucket=OUT, Key="transcripts/a.mp3/transcript.json")

    with pytest.raises(TranscriptInvalid):
        index(table, s3, SOURCE, {}, PLAN, None, OUTPUTS)


def test_the_handler_returns_the_catalog_item(aws: tuple[Any, Any]) -> None:
    import index_transcript.app

    event = {
        "source": SOURCE,
        "probe": {"duration_s": 3600.0},
        "plan": PLAN,
        "job": {"job_id": "j", "status": "SUCCEEDED"},
        "outputs": OUTPUTS,
    }
    item = index_transcript.app.handler(event, FakeLambdaContext())

    assert (item["status"], item["source_uri"], item["etag"]) == (STATUS_TRANSCRIBED, SOURCE["uri"], "abc")
