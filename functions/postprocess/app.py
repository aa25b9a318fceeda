"""Postprocess state: ``{source, plan}`` in, Outputs out (docs/CONTRACTS.md)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from common.clients import s3_client
from common.observability import logger, metrics, tracer

from postprocess.postprocess import postprocess


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    source, plan = event["source"], event["plan"]
    logger.append_keys(source_uri=source.get("uri"), etag=source.get("etag"))
    outputs = postprocess(s3_client(), source, plan, os.environ.get("OUTPUT_BUCKET"))
    metrics.add_metric(name="TranscriptPostprocessed", unit=MetricUnit.Count, value=1)
    logger.info("outputs written", extra={"outputs": outputs})
    return outputs
