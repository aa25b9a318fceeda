"""The backfill's two Lambdas, one package: ``handler`` is Decide (one object: BackfillItemRequest ->
BackfillDecision; BackfillItemFunction, read-only catalog access) and ``summarise_handler`` is Summarise
(the Map's ResultWriter files in S3: BackfillSummaryRequest -> BackfillSummary; BackfillSummaryFunction,
sized for the whole run, read-only access to the results). Two entry points, so each function's role
grants what its own code calls (tests/workflow/test_permission_map.py); the logic is in
``backfill_item.decide`` and ``backfill_item.summary``.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import catalog_table, s3_client
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.backfill import BackfillItemRequest, BackfillSummaryRequest
from pipeline.settings import Settings

from backfill_item.decide import decide
from backfill_item.summary import result_entries, summarise


def _account(context: LambdaContext) -> str:
    """The account id from the function's ARN (arn:aws:lambda:<region>:<account>:function:<name>)."""
    return str(context.invoked_function_arn).split(":")[4]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=BackfillItemRequest)
    decision = decide(
        request,
        catalog_table(),
        Settings.from_env().ignored_suffixes(),
        _account(context),
        os.environ.get("AWS_REGION", "us-east-1"),
        s3_client(),
    )
    logger.info(
        "backfill decision",
        extra={
            "source_uri": decision.source_uri,
            "outcome": decision.outcome,
            "reason": decision.reason,
            "execution_name": decision.name,
        },
    )
    metrics.add_metric(
        name="BackfillStarted" if decision.action == "start" else "BackfillNotStarted",
        unit=MetricUnit.Count,
        value=1,
    )
    return decision.model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def summarise_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    where = parse(event=event, model=BackfillSummaryRequest)
    summary = summarise(result_entries(s3_client(), where.result_writer), where.dry_run)
    logger.info("backfill summary", extra=summary.model_dump(mode="json"))
    return summary.model_dump(mode="json")
