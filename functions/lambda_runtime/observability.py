"""One Powertools setup shared by every function, so logs, traces and metrics look alike."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "transcribe-pipeline")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ParakeetTranscribe")


class _EmfProvider(AmazonCloudWatchEMFProvider):
    """Powertools' provider, except that an invocation's metrics end with the invocation even while
    metrics are disabled. Powertools clears them only when it publishes them, so with metrics off (the
    local emulator and tests run every handler in one long-lived process) each invocation's metrics and
    dimensions piled up on the shared set and came out in whatever invocation next published: a test's
    figures depended on what ran before it, and `make serve` grew without bound."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)
        if is_metrics_disabled():
            self.clear_metrics()


logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
# The provider shares Metrics' class-level sets, as the one Metrics builds by default does.
metrics = Metrics(
    provider=_EmfProvider(
        namespace=NAMESPACE,
        service=SERVICE,
        metric_set=Metrics._metrics,
        dimension_set=Metrics._dimensions,
        metadata_set=Metrics._metadata,
        default_dimensions=Metrics._default_dimensions,
    )
)


def add_dimensioned_metric(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    """Publish one metric now, in its own EMF blob, with ``service`` plus ``dimensions``.

    The shared ``metrics`` puts one dimension set on every metric of an invocation: a per-call
    dimension there would land on the invocation's other metrics. Disabled means nothing here.
    """
    if is_metrics_disabled():
        return
    with single_metric(
        name=name,
        unit=unit,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE, **dimensions},
    ):
        pass
