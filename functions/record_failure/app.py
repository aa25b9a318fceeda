"""RecordFailure state: ``{source?, event, error, plan?, execution_arn?}`` in, failure summary out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from common.clients import catalog_table, s3_client
from common.observability import logger, metrics, tracer

from record_failure.record import record_failure


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = record_failure(catalog_table(), s3_client(), event)
    logger.append_keys(source_uri=result["source_uri"], etag=result["etag"])
    # "message" is a reserved LogRecord attribute: log it under another name.
    logger.warning(
        "execution failed",
        extra={"reason": result["reason"], "reason_class": result["reason_class"],
               "failure_message": result["message"], "recorded": result["recorded"]},
    )  # fmt: skip
    # A metric name per class (not a dimension, see plan_job.app): alarm on ExecutionsFailedInternal.
    name = "ExecutionsFailedBadInput" if result["reason_class"] == "bad_input" else "ExecutionsFailedInternal"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return result
