"""Index state: ``{source, probe, plan, job, outputs}`` in, catalog item out (docs/CONTRACTS.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from common.clients import catalog_table, s3_client
from common.observability import logger, metrics, tracer

from index_transcript.index import index


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    source = event["source"]
    logger.append_keys(source_uri=source.get("uri"), etag=source.get("etag"))
    item = index(
        catalog_table(),
        s3_client(),
        source,
        event.get("probe") or {},
        event["plan"],
        event.get("job"),
        event["outputs"],
    )
    metrics.add_metric(name="TranscriptIndexed", unit=MetricUnit.Count, value=1)
    duration = item.get("duration_s")
    if isinstance(duration, int | float):
        metrics.add_metric(name="AudioSecondsTranscribed", unit=MetricUnit.Seconds, value=duration)
    cost = item.get("cost_estimate_usd")
    if isinstance(cost, int | float):
        metrics.add_metric(name="EstimatedCostUSD", unit=MetricUnit.NoUnit, value=cost)
    return item
