"""Probe state: Source (or a raw S3 event) in, ProbeResult out (docs/CONTRACTS.md).

Bad inputs raise the typed ``common.errors`` classes, which the workflow records without retrying.
What the probe cost (bytes and GET requests) is logged and emitted as metrics on every outcome,
because that cost is the point of this function.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from common.clients import s3_client
from common.errors import ZeroByteObject
from common.observability import logger, metrics, tracer

from probe_audio.event import target_from_event
from probe_audio.probe import probe
from probe_audio.s3_reader import S3RangeReader

DEFAULT_MAX_DURATION_S = 86400.0


def max_duration_s() -> float:
    return float(os.environ.get("MAX_DURATION_S") or DEFAULT_MAX_DURATION_S)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reader: S3RangeReader | None = None
    outcome = "error"
    try:
        target = target_from_event(event)
        logger.append_keys(source_uri=target.uri, etag=target.etag)
        reader = S3RangeReader(
            s3_client(), target.bucket, target.key, etag=target.etag, version_id=target.version_id
        )
        if target.size == 0:
            raise ZeroByteObject(f"{target.uri} is empty")  # the event says so: no GET needed
        result = probe(reader, max_duration_s())
        outcome = "ok"
    finally:
        bytes_read = reader.bytes_read if reader else 0
        requests = reader.requests if reader else 0
        metrics.add_metric(name="ProbeBytesRead", unit=MetricUnit.Bytes, value=bytes_read)
        metrics.add_metric(name="ProbeRequests", unit=MetricUnit.Count, value=requests)
        logger.info(
            "probe finished", extra={"outcome": outcome, "bytes_read": bytes_read, "requests": requests}
        )
    logger.info("probe result", extra={"parser": result.parser, **result.to_contract()})
    return result.to_contract()
