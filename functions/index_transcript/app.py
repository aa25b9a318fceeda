"""Index state: IndexRequest ``{source, plan, job, postprocess}`` in, CatalogItem out (pipeline.contracts)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import catalog_table, events_client, s3_client
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.contracts import IndexRequest
from pipeline.events import put_completion_event

from index_transcript.index import index, ready_event


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=IndexRequest)
def handler(request: IndexRequest, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(source_uri=request.source.uri, etag=request.source.etag)
    item = index(catalog_table(), request, s3=s3_client())
    put_completion_event(events_client(), ready_event(request, item))  # after the row: TransientError retries
    metrics.add_metric(name="TranscriptIndexed", unit=MetricUnit.Count, value=1)
    if item.duration_s is not None:
        metrics.add_metric(name="AudioSecondsTranscribed", unit=MetricUnit.Seconds, value=item.duration_s)
    if item.cost_estimate_usd is not None:
        metrics.add_metric(name="EstimatedCostUSD", unit=MetricUnit.NoUnit, value=item.cost_estimate_usd)
    # The GPU time the cost estimate prices: a pool file's share, else the job's total (index.py).
    gpu_s = item.gpu_seconds if item.gpu_seconds is not None else item.timings.total if item.timings else None
    if gpu_s is not None:
        metrics.add_metric(name="GpuSecondsUsed", unit=MetricUnit.Seconds, value=gpu_s)
    return item.model_dump(mode="json", exclude_none=True)
