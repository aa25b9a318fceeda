"""ScalePool state and the one-minute schedule: ``{incoming}`` in, PoolScaling out (contracts.models)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from common.clients import batch_client, sqs_client
from common.observability import logger, metrics, tracer
from contracts.models import PoolScaleRequest

from scale_pool.scaler import PoolConfig, scale


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=PoolScaleRequest)
    result = scale(sqs_client(), batch_client(), PoolConfig.from_env(os.environ), request.incoming)
    if result.error:
        logger.error("pool scaling failed", extra={"error": result.error})
    logger.info("pool scaled", extra=result.model_dump(mode="json"))
    metrics.add_metric(name="PoolWorkersStarted", unit=MetricUnit.Count, value=len(result.started))
    if not result.error:  # after an error the counts are zeros, not observations
        # Workers alive before this call plus the ones it started (the dashboard's "pool workers").
        metrics.add_metric(name="PoolActiveWorkers", unit=MetricUnit.Count,
                           value=result.active_workers + len(result.started))
    return result.model_dump(mode="json")
