"""RestoreSweepFunction, hourly: end the restores that never completed (record_failure.restores)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import catalog_table, events_client, s3_client
from lambda_runtime.observability import logger, metrics, tracer

from record_failure.restores import sweep_restores


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    counts = sweep_restores(catalog_table(), s3_client(), events_client(), datetime.now(UTC))
    metrics.add_metric(name="RestoresTimedOut", unit=MetricUnit.Count, value=sum(counts.values()))
    logger.info("overdue restores ended", extra={"counts": counts})
    return counts
