"""Record a failed execution in the catalog (status FAILED + typed reason), creating the item if needed.

The request is the whole state (pipeline.contracts.FailureRequest), because what exists depends on
which state failed. The item key comes from ``claim.source`` when Claim produced one, otherwise
from the raw S3 event at the state's root (Claim itself failed, e.g. ZeroByteObject), otherwise
from placeholders: a record under an odd key beats no record. Nothing here raises on odd input
(only a throttled catalog write does, as TransientError, for the ASL to retry).

A superseded upload is not a failure, and nothing here works out that it is: the ASL's
RecordSuperseded catches ``SourceSuperseded`` by name (``request.outcome``), and a Batch job says it
by its exit code 66 (classify). The row gets status SUPERSEDED and ``superseded_by``, what the key
holds now (one HeadObject of the input key, and the newer upload's sequencer from its own catalog row
when that exists). One case is left to look up: a job that rejected its input while its error.json
names another upload of the key was overtaken by that upload.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from lambda_runtime.observability import logger
from pipeline.archive import cold_state
from pipeline.catalog import catalog_key, set_expression, utc_now_iso
from pipeline.contracts import (
    ArchiveInfo,
    CompletionEvent,
    FailureRequest,
    FailureResult,
    Plan,
    SupersededBy,
    UploadedObject,
)
from pipeline.exact_upload import ERROR_JSON, current_object, error_code, holds, output_file
from pipeline.outcomes import (
    INTERNAL,
    STATUS_ARCHIVED,
    STATUS_FAILED,
    STATUS_RESTORING,
    STATUS_SUPERSEDED,
    STATUS_TRANSCRIBED,
    SourceSuperseded,
    TransientError,
)
from pipeline.s3uri import format_s3_uri, parse_s3_uri
from pipeline.uploads import uploaded_object_from_event
from pydantic import ValidationError

from record_failure.classify import (
    ARCHIVED,
    REASON_GPU_BAD_INPUT,
    RESTORING_ERROR,
    SUPERSEDED_ERROR,
    Classification,
    classify,
    parse_cause,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client


MAX_CAUSE_CHARS = 4000
MAX_GPU_ERROR_BYTES = 64 * 1024
UNKNOWN = "unknown"
_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}


SUPERSEDED_REASON = SourceSuperseded.reason

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


def gpu_error_of(document: dict[str, Any] | None, identity: UploadedObject) -> dict[str, Any] | None:
    """error.json only when it is about this upload (the prefix is shared by every upload of a key)."""
    if document and document.get("etag") not in (None, identity.etag):
        logger.info("error.json names another upload; ignored", extra={"error_etag": document.get("etag")})
        return None
    return document


def newer_upload(table: Table, s3: S3Client, identity: UploadedObject, reported: bool) -> SupersededBy | None:
    """What the key holds now, when that is another upload; None when it still holds this one.

    Never raises: when S3 cannot tell, a ``reported`` supersession (the error said so) stands with
    an unknown newer object, and an unexplained failure stays a failure."""
    try:
        current = current_object(s3, identity.bucket, identity.key)
    except Exception as exc:
        logger.warning("could not look up the key's current object", extra={"detail": repr(exc)})
        return SupersededBy() if reported else None
    if holds(identity, current):
        return None
    sequencer = None
    if current.get("etag"):
        try:
            row = table.get_item(Key=catalog_key(identity.uri, current["etag"])).get("Item") or {}
            sequencer = str(row["sequencer"]) if row.get("sequencer") else None
        except Exception as exc:  # the sequencer is a nicety; the row is still recorded without it
            logger.info("no catalog row for the newer upload", extra={"detail": repr(exc)})
    return SupersededBy(
        etag=current.get("etag"),
        version_id=current.get("version_id"),
        sequencer=sequencer,
        deleted=bool(current.get("deleted")),
    )


def read_gpu_error(s3: S3Client, prefix: str | None) -> dict[str, Any] | None:
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


def superseded_attributes(
    identity: UploadedObject, superseded_by: SupersededBy, message: str, cause: Any, execution_arn: str | None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "status": STATUS_SUPERSEDED,
        "reason": SUPERSEDED_REASON,
        "error": SUPERSEDED_ERROR,
        "message": truncate(message, 1000),
        "cause": truncate(cause),
        "superseded_by": superseded_by.model_dump(mode="json", exclude_none=True),
        "updated_at": utc_now_iso(),
        "bucket": identity.bucket,
        "key": identity.key,
        "version_id": identity.version_id,
        "sequencer": identity.sequencer,
        "failed_execution_arn": execution_arn,
    }
    return {k: v for k, v in attributes.items() if v is not None}


def archive_of(s3: S3Client, identity: UploadedObject, reported: dict[str, Any] | None) -> ArchiveInfo | None:
    """The ArchiveInfo the error carried (the probe's), else what one HeadObject says; never raises."""
    if reported:
        try:
            return ArchiveInfo.model_validate(reported)
        except ValidationError:
            logger.warning("the error's archive info is not an ArchiveInfo", extra={"archive": reported})
    if identity is PLACEHOLDER:
        return None
    try:
        state = cold_state(dict(s3.head_object(Bucket=identity.bucket, Key=identity.key)))
    except Exception as exc:
        logger.info("could not look up the cold object", extra={"detail": repr(exc)})
        return None
    return ArchiveInfo(
        storage_class=state.storage_class,
        archive_status=state.archive_status,
        restore="in_progress" if state.restore == "in_progress" else "none",
    )


def archived_attributes(
    identity: UploadedObject,
    status: str,
    classification: Classification,
    archive: ArchiveInfo | None,
    cause: Any,
    execution_arn: str | None,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "status": status,
        "reason": classification.reason,
        "error": classification.error,
        "message": truncate(classification.message, 1000),
        "cause": truncate(cause),
        "archive": archive.model_dump(mode="json", exclude_none=True) if archive else None,
        "updated_at": utc_now_iso(),
        "bucket": None if identity is PLACEHOLDER else identity.bucket,
        "key": None if identity is PLACEHOLDER else identity.key,
        "version_id": identity.version_id,
        "failed_execution_arn": execution_arn,
    }
    return {k: v for k, v in attributes.items() if v is not None}


def record_archived(
    table: Table,
    s3: S3Client,
    request: FailureRequest,
    identity: UploadedObject,
    classification: Classification,
    cause: Any,
) -> FailureResult:
    """ARCHIVED (cold, not restored) or RESTORING (a restore requested): docs/ARCHIVES.md."""
    status = STATUS_RESTORING if classification.reason == RESTORING_ERROR else STATUS_ARCHIVED
    archive = archive_of(s3, identity, classification.archive)
    attributes = archived_attributes(identity, status, classification, archive, cause, request.execution_arn)
    return FailureResult(
        status=status,  # type: ignore[arg-type]  # ARCHIVED | RESTORING
        reason=classification.reason,
        reason_class=None,
        message=attributes.get("message", ""),
        recorded=write_failure(table, identity, attributes),
        source_uri=identity.uri,
        etag=identity.etag,
        archive=archive,
    )


def write_failure(table: Table, identity: UploadedObject, attributes: dict[str, Any]) -> bool:
    """Upsert the FAILED (or SUPERSEDED) attributes unless the item already says TRANSCRIBED.

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
        code = error_code(exc)
        if code == "ConditionalCheckFailedException":
            return False
        if code in _THROTTLING:
            raise TransientError(f"catalog update throttled: {code}") from exc
        raise
    return True


def record_failure(table: Table, s3: S3Client, request: FailureRequest) -> FailureResult:
    """Classify the state's ``error``, record it on the failed upload's catalog item, say what was done."""
    state = request.state
    raw_error = state.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    classification = classify(error)
    identity = identify(state)
    if classification.reason_class == ARCHIVED:
        return record_archived(table, s3, request, identity, classification, parse_cause(error.get("Cause")))
    prefix = planned_prefix(state) if classification.reason == REASON_GPU_BAD_INPUT else None
    gpu_error = gpu_error_of(read_gpu_error(s3, prefix), identity)
    cause = parse_cause(error.get("Cause"))
    reported = request.outcome == STATUS_SUPERSEDED or classification.reason == SUPERSEDED_ERROR
    # The job rejected the input with no error.json of this upload: the key's other upload wrote there.
    unexplained = classification.reason == REASON_GPU_BAD_INPUT and gpu_error is None
    superseded_by: SupersededBy | None = None
    if (reported or unexplained) and identity is not PLACEHOLDER:
        superseded_by = newer_upload(table, s3, identity, reported)
        if superseded_by is not None:
            message = (gpu_error or {}).get("message") or classification.message
            attributes = superseded_attributes(identity, superseded_by, message, cause, request.execution_arn)
            return FailureResult(
                status=STATUS_SUPERSEDED,
                reason=SUPERSEDED_REASON,
                reason_class=None,
                message=attributes.get("message", ""),
                recorded=write_failure(table, identity, attributes),
                source_uri=identity.uri,
                etag=identity.etag,
                superseded_by=superseded_by,
            )
    if reported:
        # Reported superseded, yet the key holds this very upload: not a supersession; say so.
        classification = replace(
            classification,
            reason_class=INTERNAL,
            message=f"{classification.message} (but the key still holds this upload)",
        )
    attributes = failure_attributes(identity, classification, cause, gpu_error, request.execution_arn)
    recorded = write_failure(table, identity, attributes)
    return FailureResult(
        reason=classification.reason,
        reason_class=classification.reason_class,  # type: ignore[arg-type]  # "bad_input" | "internal" | "capacity"
        message=attributes.get("message", ""),
        recorded=recorded,
        source_uri=identity.uri,
        etag=identity.etag,
    )


def failure_event(request: FailureRequest, result: FailureResult) -> CompletionEvent:
    """The ``Transcript Failed`` / ``Transcript Superseded`` event of a recorded outcome."""
    state = request.state
    try:
        plan: Plan | None = Plan.model_validate(state["plan"])
    except (KeyError, TypeError, ValidationError):
        plan = None
    return CompletionEvent(
        status=result.status,
        upload=identify(state),
        execution_arn=request.execution_arn,
        mode=plan.mode if plan else None,
        duration_s=plan.duration_s if plan else None,
        reason=result.reason,
        reason_class=result.reason_class,
        message=result.message,
        superseded_by=result.superseded_by,
        archive=result.archive,
    )
