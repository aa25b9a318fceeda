"""Specification of the metrics the operations dashboard and alarms read (template.yaml "operations").

Each handler's EMF output is captured from stdout (as Lambda would ship it to CloudWatch): the metric
names, values and dimensions asserted here are the ones tests/workflow/test_template_operations.py
holds the dashboard and the alarms to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from lambda_runtime.observability import NAMESPACE, SERVICE, add_dimensioned_metric
from moto import mock_aws
from pipeline.contracts import FailureRequest, FailureResult, JobResult, PoolScaling
from pipeline.outcomes import STATUS_CLAIMED
from test_common_support import (
    AwsClients,
    FakeLambdaContext,
    create_bucket,
    create_catalog_table,
)

from local_emulator.runner import object_created_event
from tests.contract_examples import TIMINGS, job_done, planned, postprocessed, uploaded

SOURCE = uploaded()
PLAN = planned(SOURCE)


@pytest.fixture
def table(clients: AwsClients) -> Iterator[Any]:
    with mock_aws():
        create_bucket(clients.s3)
        table = create_catalog_table(clients.dynamodb)
        table.put_item(Item={"source_uri": SOURCE.uri, "etag": SOURCE.etag, "status": STATUS_CLAIMED})
        yield table


def emf_blobs(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def published(blob: dict[str, Any]) -> tuple[str, list[list[str]], list[str]]:
    """(namespace, dimension sets, metric names) of one EMF blob."""
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    return directive["Namespace"], directive["Dimensions"], [m["Name"] for m in directive["Metrics"]]


def blob_with(blobs: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    [blob] = [b for b in blobs if metric in b]
    return blob


# ---------------------------------------------------------------- RecordFailure: FailuresRecorded
def failure_request(error: dict[str, Any]) -> dict[str, Any]:
    state = {
        **object_created_event(SOURCE.bucket, SOURCE.key, size=10, etag=f'"{SOURCE.etag}"'),
        "claim": {"claimed": True, "source": SOURCE.model_dump(mode="json")},
        "error": error,
    }
    return FailureRequest(state=state, execution_arn="arn:exec:1").model_dump(mode="json")


def lambda_error(error_type: str) -> dict[str, str]:
    cause = {"errorMessage": "m", "errorType": error_type, "requestId": "r", "stackTrace": []}
    return {"Error": error_type, "Cause": json.dumps(cause)}


@pytest.mark.parametrize(
    ("error", "reason_class"),
    [
        ({"Error": "States.Timeout"}, "internal"),
        (lambda_error("NotMedia"), "bad_input"),
        (lambda_error("SourceSuperseded"), "superseded"),  # a newer upload owns the key: no fault
    ],
)
def test_record_failure_counts_the_failure_under_its_reason_class(
    table: Any, capsys: pytest.CaptureFixture[str], error: dict[str, Any], reason_class: str
) -> None:
    import record_failure.app

    record_failure.app.handler(failure_request(error), FakeLambdaContext())

    blob = blob_with(emf_blobs(capsys), "FailuresRecorded")
    namespace, dimensions, names = published(blob)
    # Its own blob: the ReasonClass dimension is on this metric only, with the service dimension
    assert (namespace, dimensions, names) == (NAMESPACE, [["service", "ReasonClass"]], ["FailuresRecorded"])
    assert (blob["service"], blob["ReasonClass"], blob["FailuresRecorded"]) == (SERVICE, reason_class, [1.0])


def test_the_per_class_metric_names_are_still_published_with_the_service_dimension_only(
    table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import record_failure.app

    record_failure.app.handler(failure_request({"Error": "States.Timeout"}), FakeLambdaContext())

    blob = blob_with(emf_blobs(capsys), "ExecutionsFailedInternal")
    assert published(blob)[1] == [["service"]]
    assert "ReasonClass" not in blob


def test_a_superseded_status_is_the_superseded_class_whatever_its_reason() -> None:
    # The SUPERSEDED outcome (catalog status) counts as superseded once RecordFailure reports it
    from record_failure.app import outcome_class

    fields = {
        "reason": "Whatever",
        "reason_class": "bad_input",
        "message": "",
        "recorded": True,
        "source_uri": SOURCE.uri,
        "etag": SOURCE.etag,
    }
    assert outcome_class(FailureResult.model_construct(status="SUPERSEDED", **fields)) == "superseded"
    assert outcome_class(FailureResult(**fields)) == "bad_input"
    assert outcome_class(FailureResult(**{**fields, "reason_class": "internal"})) == "internal"


def test_a_dimensioned_metric_is_not_printed_while_metrics_are_disabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    # The local emulator disables metrics: no EMF blobs in its output
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    add_dimensioned_metric("FailuresRecorded", MetricUnit.Count, 1, ReasonClass="internal")
    assert emf_blobs(capsys) == []
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    add_dimensioned_metric("FailuresRecorded", MetricUnit.Count, 1, ReasonClass="internal")
    assert len(emf_blobs(capsys)) == 1


# ---------------------------------------------------------------- Index: GpuSecondsUsed
@pytest.fixture
def owned_source(clients: AwsClients, table: Any) -> Any:
    """The upload still in the input bucket (Index writes only while the key holds it), claimed."""
    create_bucket(clients.s3, SOURCE.bucket)
    etag = clients.s3.put_object(Bucket=SOURCE.bucket, Key=SOURCE.key, Body=b"audio")["ETag"].strip('"')
    source = SOURCE.model_copy(update={"etag": etag})
    table.put_item(Item={"source_uri": source.uri, "etag": etag, "status": STATUS_CLAIMED})
    return source


def index_event(job: JobResult, source: Any = SOURCE) -> dict[str, Any]:
    from pipeline.contracts import IndexRequest

    request = IndexRequest(source=source, plan=PLAN, job=job, postprocess=postprocessed(PLAN))
    return request.model_dump(mode="json")


@pytest.mark.parametrize(
    ("job", "gpu_seconds"),
    [
        (job_done(), TIMINGS["total"]),  # its own Batch job: the whole job held the GPU
        (JobResult(job_id="pool-worker-1", status="SUCCEEDED", gpu_seconds=12.5, batch_files=4), 12.5),
    ],
)
def test_index_emits_the_gpu_seconds_the_cost_estimate_prices(
    owned_source: Any, capsys: pytest.CaptureFixture[str], job: JobResult, gpu_seconds: float
) -> None:
    import index_transcript.app

    item = index_transcript.app.handler(index_event(job, owned_source), FakeLambdaContext())

    blob = blob_with(emf_blobs(capsys), "GpuSecondsUsed")
    assert blob["GpuSecondsUsed"] == [gpu_seconds]
    assert published(blob)[1] == [["service"]]
    # The same seconds, at the plan's price, are the cost estimate
    assert item["cost_estimate_usd"] == pytest.approx(gpu_seconds * PLAN.price_per_hour_usd / 3600, abs=1e-6)
    units = {m["Name"]: m["Unit"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert (units["GpuSecondsUsed"], units["AudioSecondsTranscribed"]) == ("Seconds", "Seconds")


# ---------------------------------------------------------------- ScalePool: PoolActiveWorkers
def scaled(
    result: PoolScaling, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    import scale_pool.app

    monkeypatch.setattr(scale_pool.app, "sqs_client", lambda: None)
    monkeypatch.setattr(scale_pool.app, "batch_client", lambda: None)
    monkeypatch.setattr(scale_pool.app, "pool_scaler_lease_table", lambda: None)
    monkeypatch.setattr(scale_pool.app, "scale_exclusively", lambda *args: result)
    monkeypatch.setattr(scale_pool.app, "oldest_runnable_s", lambda *args: 0.0)
    scale_pool.app.handler({"incoming": 0}, FakeLambdaContext())
    return blob_with(emf_blobs(capsys), "PoolWorkersStarted")


def test_scale_pool_emits_the_workers_alive_after_the_call(
    clients: AwsClients, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = PoolScaling(
        waiting=30, in_flight=5, active_workers=2, wanted_workers=4, started=["job-a", "job-b"]
    )
    blob = scaled(result, monkeypatch, capsys)
    assert (blob["PoolActiveWorkers"], blob["PoolWorkersStarted"]) == ([4.0], [2.0])
    assert published(blob)[1] == [["service"]]


def test_scale_pool_emits_no_worker_count_when_it_could_not_look(
    clients: AwsClients, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # After an AWS error the counts are zeros by default, not an observation: no data point
    result = PoolScaling(
        waiting=0, in_flight=0, active_workers=0, wanted_workers=0, started=[], error="ClientError: throttled"
    )
    blob = scaled(result, monkeypatch, capsys)
    assert "PoolActiveWorkers" not in blob
