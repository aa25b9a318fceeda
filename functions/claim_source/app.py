"""Claim state: ClaimRequest ``{event, execution_arn}`` in, ClaimResult out (pipeline.contracts)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import catalog_table, s3_client
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.contracts import ClaimRequest
from pipeline.uploads import parse_upload_event, uploaded_object

from claim_source.claim import claim


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=ClaimRequest)
def handler(request: ClaimRequest, context: LambdaContext) -> dict[str, Any]:
    event = parse_upload_event(request.event)
    source = uploaded_object(event)
    logger.append_keys(source_uri=source.uri, etag=source.etag)
    result = claim(
        catalog_table(),
        source,
        request.execution_arn,
        event.detail_type,
        s3=s3_client(),
        output_bucket=os.environ.get("OUTPUT_BUCKET"),
    )
    if result.claimed:
        metrics.add_metric(name="SourceClaimed", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="SourceNotClaimed", unit=MetricUnit.Count, value=1)
        logger.info("not claimed", extra={"reason": result.reason})
    return result.model_dump(mode="json")
