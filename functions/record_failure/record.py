"""Record a failed execution in the catalog (status FAILED + typed reason), creating the item if needed.

The item key comes from the workflow's Source when Claim produced one, otherwise from the raw
S3 event (Claim itself failed, e.g. ZeroByteObject), otherwise from placeholders: a record under
an odd key beats no record.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from common.catalog import STATUS_FAILED, STATUS_TRANSCRIBED, catalog_key, set_expression, utc_now_iso
from common.errors import TransientError
from common.layout import ERROR_JSON, output_file
from common.observability import logger
from common.s3uri import format_s3_uri, parse_s3_uri
from common.source import source_from_event, unwrap_execution_input

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


def identify(source: Any, event: Any) -> dict[str, Any]:
    """(uri, etag, bucket, key) of the failed file from Source, else the raw event; never raises."""
    if isinstance(source, dict) and source.get("uri"):
        return {
            "uri": str(source["uri"]),
            "etag": str(source.get("etag") or UNKNOWN),
            "bucket": source.get("bucket"),
            "key": source.get("key"),
        }
    try:
        raw_event, _ = unwrap_execution_input(event if isinstance(event, dict) else {})
        parsed = source_from_event(raw_event)
        return {"uri": parsed.uri, "etag": parsed.etag, "bucket": parsed.bucket, "key": parsed.key}
    except Exception:  # any odd event still gets recorded under placeholders
        logger.warning("failed file not identifiable from the event; recording under a placeholder key")
        return {"uri": format_s3_uri(UNKNOWN, UNKNOWN), "etag": UNKNOWN, "bucket": None, "key": None}


def read_gpu_error(s3: Any, plan: Any) -> dict[str, Any] | None:
    """gpu_job's ``<output_prefix>error.json`` ({error, message, input}) if plan known and file exists."""
    prefix = plan.get("output_prefix") if isinstance(plan, dict) else None
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
    identity: dict[str, Any],
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
        "bucket": identity.get("bucket"),
        "key": identity.get("key"),
        "batch_job_id": classification.batch_job_id,
        "exit_code": classification.exit_code,
        "status_reason": classification.status_reason,
        "gpu_error": gpu_error,
        "failed_execution_arn": execution_arn,
    }
    return {k: v for k, v in attributes.items() if v is not None}


def write_failure(table: Any, identity: dict[str, Any], attributes: dict[str, Any]) -> bool:
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
            Key=catalog_key(identity["uri"], identity["etag"]),
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


def unpack(payload: Any) -> tuple[dict[str, Any], Any, Any, Any, str | None]:
    """(error, source, event, plan, execution_arn) from any payload shape the ASL may send.

    Accepted: the contract's ``{source?, event, error, plan?, execution_arn?}``; the whole state
    (``Payload.$: "$"``: raw event at the root plus ``claim``, ``plan``, ``error``); or
    ``{state: <whole state>, execution_arn}``. Passing the whole state avoids ASL paths that do not
    exist yet when an early state fails (``$.claim.source`` after a failed Claim is a runtime error).
    """
    payload = payload if isinstance(payload, dict) else {}
    state = payload.get("state") if isinstance(payload.get("state"), dict) else payload
    error = payload.get("error") or state.get("error")
    claim = state.get("claim") if isinstance(state.get("claim"), dict) else {}
    source = payload.get("source") or claim.get("source")
    event = payload.get("event") or state
    plan = payload.get("plan") or state.get("plan")
    execution_arn = payload.get("execution_arn") or state.get("execution_arn")
    return (error if isinstance(error, dict) else {}), source, event, plan, execution_arn


def record_failure(table: Any, s3: Any, payload: Any) -> dict[str, Any]:
    """Classify, record, return ``{status, reason, reason_class, message, recorded, source_uri, etag}``."""
    error, source, event, plan, execution_arn = unpack(payload)
    classification = classify(error)
    identity = identify(source, event)
    gpu_error = read_gpu_error(s3, plan) if classification.reason == REASON_GPU_BAD_INPUT else None
    cause = parse_cause(error.get("Cause"))
    attributes = failure_attributes(identity, classification, cause, gpu_error, execution_arn)
    recorded = write_failure(table, identity, attributes)
    return {
        "status": STATUS_FAILED,
        "reason": classification.reason,
        "reason_class": classification.reason_class,
        "message": attributes.get("message", ""),
        "recorded": recorded,
        "source_uri": identity["uri"],
        "etag": identity["etag"],
    }
