"""RecordFailure state: FailureRequest ``{state, execution_arn}`` in, FailureResult out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import catalog_table, events_client, s3_client
from lambda_runtime.observability import add_dimensioned_metric, logger, metrics, tracer
from pipeline.contracts import FailureRequest, FailureResult
from pipeline.events import put_completion_event
from pipeline.outcomes import STATUS_ARCHIVED, STATUS_RESTORING, SourceSuperseded

from record_failure.record import failure_event, record_failure

COLD = (STATUS_ARCHIVED, STATUS_RESTORING)  # docs/ARCHIVES.md: recorded here, yet not failures


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FailureRequest)
def handler(request: FailureRequest, context: LambdaContext) -> dict[str, Any]:
    result = record_failure(catalog_table(), s3_client(), request)
    if result.recorded:  # a row left TRANSCRIBED (a duplicate execution failed) announces nothing
        put_completion_event(events_client(), failure_event(request, result))  # TransientError retries
    logger.append_keys(source_uri=result.source_uri, etag=result.etag)
    # "message" is a reserved LogRecord attribute: log it under another name.
    cold = result.status in COLD
    (logger.info if cold else logger.warning)(
        "upload archived" if cold else "execution failed",
        extra={
            "reason": result.reason,
            "reason_class": result.reason_class,
            "failure_message": result.message,
            "recorded": result.recorded,
        },
    )
    # A metric name per class (not a dimension, see plan_job.app): alarm on ExecutionsFailedInternal.
    name = {
        "bad_input": "ExecutionsFailedBadInput",
        "capacity": "ExecutionsFailedCapacity",
        None: "ExecutionsSuperseded",
    }.get(result.reason_class, "ExecutionsFailedInternal")
    if result.status in COLD:
        name = "ExecutionsArchived" if result.status == STATUS_ARCHIVED else "ExecutionsRestoring"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    # The dashboard's "failed by reason class" (docs/OPERATIONS.md): one metric, ReasonClass dimension.
    add_dimensioned_metric("FailuresRecorded", MetricUnit.Count, 1, ReasonClass=outcome_class(result))
    return result.model_dump(mode="json")


def outcome_class(result: FailureResult) -> str:
    """bad_input | internal | capacity | superseded | archived: a superseded upload (a newer one owns
    the key) is no fault, nor is a cold one (ARCHIVED or RESTORING, docs/ARCHIVES.md)."""
    status = getattr(result, "status", "FAILED")
    if status in COLD:
        return "archived"
    superseded = status == "SUPERSEDED" or result.reason == SourceSuperseded.__name__
    return "superseded" if superseded else str(result.reason_class)
