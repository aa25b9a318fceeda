"""One Powertools setup shared by every function, so logs, traces and metrics look alike."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "transcribe-pipeline")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ParakeetTranscribe")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
