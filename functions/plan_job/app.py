"""Plan state: ``{source, probe}`` in, Plan out (docs/CONTRACTS.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from common.observability import logger, metrics, tracer

from plan_job.planner import plan
from plan_job.settings import load_settings


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    source, probe = event["source"], event["probe"]
    logger.append_keys(source_uri=source.get("uri"), etag=source.get("etag"))
    result = plan(source, probe, load_settings())
    logger.info(
        "planned",
        extra={k: result[k] for k in ("mode", "size_class", "duration_s", "estimated_gpu_memory_gb")},
    )
    # One metric name per mode rather than a per-invocation dimension: Powertools keeps dimensions
    # across invocations when metrics are disabled (local emulator), which would leak between handlers.
    mode_name = "".join(part.title() for part in result["mode"].split("_"))
    metrics.add_metric(name=f"JobsPlanned{mode_name}", unit=MetricUnit.Count, value=1)
    return result
