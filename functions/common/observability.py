"""One Powertools setup shared by every function, so logs, traces and metrics look alike."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "transcribe-pipeline")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ParakeetTranscribe")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def add_dimensioned_metric(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    """Publish one metric now, in its own EMF blob, with ``service`` plus ``dimensions``.

    The shared ``metrics`` puts one dimension set on every metric of an invocation, and keeps it
    across invocations while metrics are disabled (the local emulator runs every handler in one
    process): a per-call dimension there would leak into other metrics. Disabled means nothing here.
    """
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE,
                       default_dimensions={"service": SERVICE, **dimensions}):
        pass
