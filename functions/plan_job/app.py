"""Plan state: PlanRequest ``{source, probe}`` in, Plan out (pipeline.contracts)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.contracts import PlanRequest
from pipeline.settings import Settings

from plan_job.planner import plan
from plan_job.wiring import load_wiring


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=PlanRequest)
def handler(request: PlanRequest, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(source_uri=request.source.uri, etag=request.source.etag)
    result = plan(request, Settings.from_env(), load_wiring())
    logged = {"mode", "size_class", "path", "duration_s", "estimated_gpu_memory_gb"}
    logger.info("planned", extra=result.model_dump(mode="json", include=logged))
    # One metric name per mode rather than a per-invocation dimension: Powertools keeps dimensions
    # across invocations when metrics are disabled (local emulator), which would leak between handlers.
    mode_name = "".join(part.title() for part in result.mode.split("_"))
    metrics.add_metric(name=f"JobsPlanned{mode_name}", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
