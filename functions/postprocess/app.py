"""Postprocess state: PostprocessRequest ``{source, plan}`` in, PostprocessResult ``{outputs, summary}``."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import s3_client
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.contracts import PostprocessRequest

from postprocess.postprocess import postprocess


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=PostprocessRequest)
def handler(request: PostprocessRequest, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(source_uri=request.source.uri, etag=request.source.etag)
    result = postprocess(s3_client(), request, os.environ.get("OUTPUT_BUCKET"))
    metrics.add_metric(name="TranscriptPostprocessed", unit=MetricUnit.Count, value=1)
    logger.info("outputs written", extra={"outputs": result.outputs.model_dump(mode="json")})
    return result.model_dump(mode="json")
