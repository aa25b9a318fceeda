"""ScalePool state and the one-minute schedule: ``{incoming}`` in, PoolScaling out (pipeline.contracts)."""

from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import batch_client, pool_scaler_lease_table, sqs_client, stepfunctions_client
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.contracts import PoolScaleRequest

from scale_pool.dead_letters import answer_dead_letters
from scale_pool.scaler import PoolConfig, oldest_runnable_s, scale_exclusively


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=PoolScaleRequest)
    config = PoolConfig.from_env(os.environ)
    now_s = time.time()
    # The lease lapses at this invocation's deadline: a holder that dies blocks no later call beyond it.
    until_s = now_s + context.get_remaining_time_in_millis() / 1000
    result = scale_exclusively(
        sqs_client(),
        batch_client(),
        pool_scaler_lease_table(),
        config,
        request.incoming,
        context.aws_request_id,
        now_s,
        until_s,
    )
    if request.incoming == 0:  # the schedule's call (once a minute): dead letters, RUNNABLE waits
        try:
            failed = answer_dead_letters(sqs_client(), stepfunctions_client(), config.dead_letter_queue_url)
            if failed:
                logger.warning("failed the files of dead-lettered pool messages", extra={"files": failed})
        except Exception as exc:  # the next minute's call tries again
            logger.warning("could not answer the dead-lettered pool messages", extra={"detail": repr(exc)})
        try:
            waited = oldest_runnable_s(batch_client(), config.watched_queues, int(now_s * 1000))
            metrics.add_metric(name="OldestRunnableJobSeconds", unit=MetricUnit.Seconds, value=waited)
        except Exception as exc:  # a missed measurement shows as missing data, not as a failed scaler
            logger.warning("could not measure RUNNABLE waits", extra={"detail": repr(exc)})
    if result.error:
        logger.error("pool scaling failed", extra={"error": result.error})
    logger.info("pool scaled", extra=result.model_dump(mode="json"))
    metrics.add_metric(name="PoolWorkersStarted", unit=MetricUnit.Count, value=len(result.started))
    if not result.error and not result.skipped:  # then the counts are zeros, not observations
        # Workers alive before this call plus the ones it started (the dashboard's "pool workers").
        metrics.add_metric(
            name="PoolActiveWorkers", unit=MetricUnit.Count, value=result.active_workers + len(result.started)
        )
    return result.model_dump(mode="json")
