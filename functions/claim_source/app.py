"""Claim state: raw S3 event in, ``{claimed, source}`` out (docs/CONTRACTS.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from common.clients import catalog_table
from common.observability import logger, metrics, tracer
from common.source import source_from_event, unwrap_execution_input

from claim_source.claim import claim


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    raw_event, execution_arn = unwrap_execution_input(event)
    source = source_from_event(raw_event)
    logger.append_keys(source_uri=source.uri, etag=source.etag)
    result = claim(catalog_table(), source, execution_arn, raw_event.get("detail-type"))
    if result["claimed"]:
        metrics.add_metric(name="SourceClaimed", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="SourceNotClaimed", unit=MetricUnit.Count, value=1)
        logger.info("not claimed", extra={"reason": result.get("reason")})
    return dict(result)
