"""Index state: mark the catalog item TRANSCRIBED with what a person or a query needs to know.

Everything comes from the request: language, timings, model and word count from Postprocess's
TranscriptSummary (transcript.json is read once per execution, by Postprocess), the job from
Transcribe's JobResult, mode, size class and price from the Plan. No S3 read here.

The cost estimate is the job's total GPU-holding time (download + decode + model load +
inference, i.e. ``timings.total``) times the size class's hourly price: inference alone would
under-count what the instance is billed for while the job runs. A file transcribed by a pool worker
is priced by its share of the worker's GPU time instead (``JobResult.gpu_seconds``): its own
``timings.total`` would count the model load (paid once per worker) against the first file alone.
Instance start-up and idle time are shared across jobs and not attributed.
"""

from __future__ import annotations

from typing import Any

from common.catalog import STATUS_TRANSCRIBED, catalog_key, from_dynamo, set_expression, utc_now_iso
from contracts.models import CatalogItem, IndexRequest


def estimate_cost_usd(total_s: float, price_usd_per_hour: float) -> float:
    return round(total_s * price_usd_per_hour / 3600.0, 6)


def catalog_attributes(request: IndexRequest) -> dict[str, Any]:
    """The attributes Index sets, as JSON-like Python values (floats, not Decimals)."""
    plan, summary, job = request.plan, request.postprocess.summary, request.job
    gpu_s = job.gpu_seconds if job.gpu_seconds is not None else summary.timings.total
    return {
        "status": STATUS_TRANSCRIBED,
        "language": summary.language,
        "duration_s": summary.duration_s,
        "mode": summary.mode,
        "size_class": plan.size_class,
        "instance_types": list(plan.instance_types),
        "model": summary.model.model_dump(mode="json"),
        "hardware": summary.hardware.model_dump(mode="json"),
        "timings": summary.timings.model_dump(mode="json"),
        "price_per_hour_usd": plan.price_per_hour_usd,
        "cost_estimate_usd": estimate_cost_usd(gpu_s, plan.price_per_hour_usd),
        "gpu_seconds": job.gpu_seconds,
        "outputs": request.postprocess.outputs.model_dump(mode="json"),
        "batch_job_id": job.job_id,
        "job_name": plan.job_name,
        "word_count": summary.word_count,
        "updated_at": utc_now_iso(),
    }


def index(table: Any, request: IndexRequest) -> CatalogItem:
    """Write the TRANSCRIBED attributes and return the whole item."""
    attributes = {k: v for k, v in catalog_attributes(request).items() if v is not None}
    expression, names, values = set_expression(attributes)
    response = table.update_item(
        Key=catalog_key(request.source.uri, request.source.etag),
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    return CatalogItem.model_validate(from_dynamo(response["Attributes"]))
