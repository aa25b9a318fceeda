"""Record a failed execution in the catalog (status FAILED + typed reason), creating the item if needed.

The request is the whole state (contracts.models.FailureRequest), because what exists depends on
which state failed. The item key comes from ``claim.source`` when Claim produced one, otherwise
from the raw S3 event at the state's root (Claim itself failed, e.g. ZeroByteObject), otherwise
from placeholders: a record under an odd key beats no record. Nothing here raises on odd input
(only a throttled catalog write does, as TransientError, for the ASL to retry).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from common.catalog import STATUS_FAILED, STATUS_TRANSCRIBED, catalog_key, set_expression, utc_now_iso
from common.layout import ERROR_JSON, output_file
from common.observability import logger
from common.s3uri import format_s3_uri, parse_s3_uri
from common.uploads import uploaded_object_from_event
from contracts.errors import TransientError
from contracts.models import FailureRequest, FailureResult, Plan, UploadedObject
from pydantic import ValidationError

from record_failure.classify import REASON_GPU_BAD_INPUT, Classification, classify, parse_cause

MAX_CAUSE_CHARS = 4000
MAX_GPU_ERROR_BYTES = 64 * 1024
UNKNOWN = "unknown"
_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}


PLACEHOLDER = UploadedObject(bucket=UNKNOWN, key=UNKNOWN, etag=UNKNOWN, uri=format_s3_uri(UNKNOWN, UNKNOWN))


def identify(state: dict[str, Any]) -> UploadedObject:
    """The failed upload: Claim's ``source``, else the raw event at the state's root; never raises."""
    claim = state.get("claim")
    if isinstance(claim, dict) and "source" in claim:
        try:
            return UploadedObject.model_validate(claim["source"])
        except ValidationError:
            logger.warning("claim.source is not an UploadedObject; naming the file from the event")
    try:
        return uploaded_object_from_event(state)
    except Exception:  # any odd event still gets recorded under placeholders
        logger.warning("failed file not identifiable from the event; recording under a placeholder key")
        return PLACEHOLDER


def planned_prefix(state: dict[str, Any]) -> str | None:
    """The output prefix of the Plan, when Plan ran (gpu_job writes its error.json there)."""
    try:
        return Plan.model_validate(state["plan"]).request.output_prefix
    except (KeyError, TypeError, ValidationError):
        return None


def read_gpu_error(s3: Any, prefix: str | None) -> dict[str, Any] | None:
    """gpu_job's ``<output_prefix>error.json`` ({error, message, input}) if plan known and file exists."""
    if not prefix or s3 is None:
        return None
    try:
        location = parse_s3_uri(output_file(prefix, ERROR_JSON))
        body = s3.get_object(
            Bucket=location.bucket, Key=location.key, Range=f"bytes=0-{MAX_GPU_ERROR_BYTES - 1}"
        )
        document = json.loads(body["Body"].read())
    except Exception as exc:  # absent or unreadable: the exit code alone still classifies
        logger.info("no readable error.json from gpu_job", extra={"prefix": prefix, "detail": repr(exc)})
        return None
    return document if isinstance(document, dict) else {"raw": document}


def truncate(text: Any, limit: int = MAX_CAUSE_CHARS) -> str | None:
    if text is None:
        return None
    text = text if isinstance(text, str) else json.dumps(text, default=str)
    return text if len(text) <= limit else text[: limit - 15] + "...[truncated]"


def failure_attributes(
    identity: UploadedObject,
    classification: Classification,
    cause: Any,
    gpu_error: dict[str, Any] | None,
    execution_arn: str | None,
) -> dict[str, Any]:
    message = classification.message
    if gpu_error and classification.reason == REASON_GPU_BAD_INPUT:
        message = f"{gpu_error.get('error', 'gpu_job error')}: {gpu_error.get('message', '')}".strip()
    attributes: dict[str, Any] = {
        "status": STATUS_FAILED,
        "reason": classification.reason,
        "reason_class": classification.reason_class,
        "error": classification.error,
        "message": truncate(message, 1000),
        "cause": truncate(cause),
        "updated_at": utc_now_iso(),
        "bucket": None if identity is PLACEHOLDER else identity.bucket,
        "key": None if identity is PLACEHOLDER else identity.key,
        "batch_job_id": classification.batch_job_id,
        "exit_code": classification.exit_code,
        "status_reason": classification.status_reason,
        "gpu_error": gpu_error,
        "failed_execution_arn": execution_arn,
    }
    return {k: v for k, v in attributes.items() if v is not None}


def write_failure(table: Any, identity: UploadedObject, attributes: dict[str, Any]) -> bool:
    """Upsert the FAILED attributes unless the item already says TRANSCRIBED.

    The guard matters for a duplicate execution that fails (e.g. Claim throttled) while another
    execution already transcribed the same bytes: its failure must not overwrite the success.
    Returns whether the item was written. Throttling becomes TransientError so the ASL retries.
    """
    expression, names, values = set_expression(attributes)
    names["#status_guard"] = "status"
    values[":transcribed"] = STATUS_TRANSCRIBED
    try:
        table.update_item(
            Key=catalog_key(identity.uri, identity.etag),
            UpdateExpression=expression,
            ConditionExpression="attribute_not_exists(#status_guard) OR #status_guard <> :transcribed",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "ConditionalCheckFailedException":
            return False
        if code in _THROTTLING:
            raise TransientError(f"catalog update throttled: {code}") from exc
        raise
    return True


def record_failure(table: Any, s3: Any, request: FailureRequest) -> FailureResult:
    """Classify the state's ``error``, record it on the failed upload's catalog item, say what was done."""
    state = request.state
    error = state.get("error") if isinstance(state.get("error"), dict) else {}
    classification = classify(error)
    identity = identify(state)
    prefix = planned_prefix(state) if classification.reason == REASON_GPU_BAD_INPUT else None
    gpu_error = read_gpu_error(s3, prefix)
    cause = parse_cause(error.get("Cause"))
    attributes = failure_attributes(identity, classification, cause, gpu_error, request.execution_arn)
    recorded = write_failure(table, identity, attributes)
    return FailureResult(
        reason=classification.reason,
        reason_class=classification.reason_class,  # type: ignore[arg-type]  # "bad_input" | "internal"
        message=attributes.get("message", ""),
        recorded=recorded,
        source_uri=identity.uri,
        etag=identity.etag,
    )
