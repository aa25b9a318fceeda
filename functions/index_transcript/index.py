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

Exact bytes: the row is marked TRANSCRIBED only while the input key still holds this upload (one
HeadObject; else SourceSuperseded and the row ends SUPERSEDED), and only the row this execution
claimed (condition on its ``execution_arn``). Then the ``Transcript Ready`` completion event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.catalog import catalog_key, from_dynamo, set_expression, utc_now_iso
from pipeline.contracts import CatalogItem, CompletionEvent, IndexRequest
from pipeline.exact_upload import ensure_current, error_code
from pipeline.outcomes import STATUS_TRANSCRIBED

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client


class NotClaimedHere(Exception):
    """The row was claimed by another execution: this one must not write its outcome over it."""


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
        "low_confidence_share": summary.low_confidence_share,
        "channel_mode_used": summary.channel_mode_used,
        "speaker_count": summary.speaker_count,
        "warnings": list(summary.warnings) or None,
        "redacted_entities": summary.redacted_entities,
        "updated_at": utc_now_iso(),
    }


def index(table: Table, request: IndexRequest, s3: S3Client | None = None) -> CatalogItem:
    """Write the TRANSCRIBED attributes and return the whole item.

    ``s3`` (the input bucket's client) checks first that the key still holds the upload; None skips it.
    """
    if s3 is not None:
        ensure_current(s3, request.source)
    attributes = {k: v for k, v in catalog_attributes(request).items() if v is not None}
    expression, names, values = set_expression(attributes)
    condition: dict[str, Any] = {}
    if request.execution_arn:
        names["#claimed_by"] = "execution_arn"
        values[":me"] = request.execution_arn
        condition["ConditionExpression"] = "attribute_not_exists(#claimed_by) OR #claimed_by = :me"
    try:
        response = table.update_item(
            Key=catalog_key(request.source.uri, request.source.etag),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            **condition,
        )
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            source = request.source
            raise NotClaimedHere(f"{source.uri} ({source.etag}) is claimed by another execution") from exc
        raise
    return CatalogItem.model_validate(from_dynamo(response["Attributes"]))


def ready_event(request: IndexRequest, item: CatalogItem) -> CompletionEvent:
    """The ``Transcript Ready`` event of a TRANSCRIBED row."""
    return CompletionEvent(
        status="TRANSCRIBED",
        upload=request.source,
        execution_arn=request.execution_arn,
        outputs=request.postprocess.outputs,
        duration_s=item.duration_s,
        mode=item.mode,
        language=item.language,
        word_count=item.word_count,
        speaker_count=item.speaker_count,
        cost_estimate_usd=item.cost_estimate_usd,
        warnings=item.warnings,
    )
