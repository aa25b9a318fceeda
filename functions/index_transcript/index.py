"""Index state: mark the catalog item TRANSCRIBED with what a person or a query needs to know.

Language, timings and model come from transcript.json itself (read again here rather than
passed through Postprocess) so that Outputs stays the plain URI map of the contract and a file
can be re-indexed from S3 alone.

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
from common.gpu_classes import price_per_hour
from common.layout import TRANSCRIPT_JSON, output_file
from common.transcript import load_transcript

OUTPUT_FIELDS = ("transcript_json", "srt", "vtt", "txt", "segments_jsonl")


def batch_job_id(job: dict[str, Any] | None) -> str | None:
    """``job_id`` of the JobResult (a per-file job or the pool worker); ``JobId``/``jobId`` as a raw
    Batch job description spells it (AWS / moto)."""
    job = job or {}
    return job.get("job_id") or job.get("JobId") or job.get("jobId")


def estimate_cost_usd(timings: dict[str, Any], price_usd_per_hour: float | None,
                      gpu_seconds: float | None = None) -> float | None:
    seconds = gpu_seconds if gpu_seconds is not None else timings.get("total")
    if price_usd_per_hour is None or not isinstance(seconds, int | float):
        return None
    return round(float(seconds) * price_usd_per_hour / 3600.0, 6)


def catalog_attributes(
    source: dict[str, Any],
    probe: dict[str, Any],
    plan: dict[str, Any],
    job: dict[str, Any] | None,
    outputs: dict[str, Any],
    transcript: dict[str, Any],
) -> dict[str, Any]:
    """The attributes Index sets, as JSON-like Python values (floats, not Decimals)."""
    price = plan.get("price_per_hour_usd")
    if price is None:
        price = price_per_hour(plan.get("size_class", ""))
    timings = dict(transcript.get("timings") or {})
    duration = (transcript.get("media") or {}).get("duration_s")
    if duration is None:
        duration = probe.get("duration_s")
    return {
        "status": STATUS_TRANSCRIBED,
        "language": transcript.get("language"),
        "duration_s": duration,
        "mode": transcript.get("mode") or plan.get("mode"),
        "size_class": plan.get("size_class"),
        "instance_types": list(plan.get("instance_types") or []),
        "model": transcript.get("model"),
        "hardware": transcript.get("hardware"),
        "timings": timings,
        "price_per_hour_usd": price,
        "cost_estimate_usd": estimate_cost_usd(timings, price, (job or {}).get("gpu_seconds")),
        "gpu_seconds": (job or {}).get("gpu_seconds"),
        "outputs": {field: outputs[field] for field in OUTPUT_FIELDS if outputs.get(field)},
        "batch_job_id": batch_job_id(job),
        "job_name": plan.get("job_name"),
        "word_count": len(transcript.get("words") or []),
        "updated_at": utc_now_iso(),
    }


def index(
    table: Any,
    s3: Any,
    source: dict[str, Any],
    probe: dict[str, Any],
    plan: dict[str, Any],
    job: dict[str, Any] | None,
    outputs: dict[str, Any],
) -> dict[str, Any]:
    """Write the TRANSCRIBED attributes and return the whole item, JSON-serialisable."""
    transcript_uri = outputs.get("transcript_json") or output_file(plan["output_prefix"], TRANSCRIPT_JSON)
    transcript = load_transcript(s3, transcript_uri)
    attributes = {k: v for k, v in catalog_attributes(source, probe, plan, job, outputs, transcript).items()
                  if v is not None}  # fmt: skip
    expression, names, values = set_expression(attributes)
    response = table.update_item(
        Key=catalog_key(source["uri"], source["etag"]),
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    return from_dynamo(response["Attributes"])
