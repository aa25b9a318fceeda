"""Classify a Step Functions error (``{Error, Cause}`` from a Catch) into reason and reason_class.

Three shapes of Cause reach the Catch:
* a Lambda error: Cause is a JSON string ``{"errorMessage", "errorType", "stackTrace"}``;
* a ``batch:submitJob.sync`` failure: Error ``States.TaskFailed``, Cause the JSON job description
  as Step Functions hands it over (PascalCase: ``JobId``, ``Container.ExitCode``, ``Attempts``...),
  whose container exit code tells bad input (65) and a superseded upload (66) from everything
  else, and whose ``StatusReason`` tells a job its queue cancelled in RUNNABLE
  (``CapacityUnavailable: ...``, no instance launched);
* anything else (``States.Timeout``, ``States.Runtime``...): Cause is free text or absent.
Nothing here raises: a failure recorder that fails would lose the very record it exists for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pipeline.archive import archive_error_payload
from pipeline.exact_upload import OBJECT_ARCHIVED
from pipeline.outcomes import (
    BAD_INPUT,
    BAD_INPUT_ERROR_NAMES,
    CAPACITY,
    GPU_JOB_EXIT_BAD_INPUT,
    GPU_JOB_EXIT_SUPERSEDED,
    INTERNAL,
    ArchiveRestoring,
    CapacityUnavailable,
    ObjectArchived,
    SourceSuperseded,
)

CAPACITY_UNAVAILABLE = CapacityUnavailable.__name__
REASON_GPU_BAD_INPUT = "gpu_job.bad_input"
REASON_BATCH_FAILED = "batch.job_failed"
REASON_UNKNOWN = "unknown"
SUPERSEDED_ERROR = SourceSuperseded.__name__
# Not a reason class of a FAILED row: the outcome SUPERSEDED (docs/OUTCOMES.md), by name or exit code.
SUPERSEDED = SourceSuperseded.reason
# A cold upload (docs/ARCHIVES.md): its own outcome, no reason class (neither bad input nor internal).
ARCHIVED = "archived"
ARCHIVED_ERROR = ObjectArchived.__name__
RESTORING_ERROR = ArchiveRestoring.__name__
ARCHIVE_ERRORS = frozenset({ARCHIVED_ERROR, RESTORING_ERROR})


@dataclass(frozen=True)
class Classification:
    reason: str
    reason_class: str
    message: str
    error: str
    exit_code: int | None = None
    status_reason: str | None = None
    batch_job_id: str | None = None
    attempts: int | None = None
    archive: dict[str, Any] | None = None


def parse_cause(cause: Any) -> Any:
    """The Cause as JSON when it is JSON, else the original value."""
    if isinstance(cause, str):
        try:
            return json.loads(cause)
        except ValueError:
            return cause
    return cause


def _get(mapping: Any, name: str) -> Any:
    """``mapping[name]`` when ``mapping`` is a dict, else None: a Cause may be any JSON."""
    return mapping.get(name) if isinstance(mapping, dict) else None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def batch_details(job: Any) -> tuple[int | None, str | None, str | None, int | None]:
    """(exit code, status reason, job id, attempt count) from a Step Functions Batch job description.

    The job-level container reflects the last attempt; if it has no exit code (e.g. the host
    disappeared), the last attempt that has one is used.
    """
    container = _get(job, "Container")
    exit_code = _int_or_none(_get(container, "ExitCode"))
    attempts = _get(job, "Attempts")
    attempts = attempts if isinstance(attempts, list) else []
    if exit_code is None:
        for attempt in reversed(attempts):
            exit_code = _int_or_none(_get(_get(attempt, "Container"), "ExitCode"))
            if exit_code is not None:
                break
    status_reason = _get(job, "StatusReason") or _get(container, "Reason")
    if status_reason is None and attempts:
        status_reason = _get(attempts[-1], "StatusReason")
    job_id = _get(job, "JobId")
    return exit_code, status_reason, job_id, len(attempts) or None


def is_capacity_unavailable(status_reason: Any) -> bool:
    """A job its queue cancelled in RUNNABLE: template.yaml's JobStateTimeLimitActions reasons start so."""
    return isinstance(status_reason, str) and status_reason.startswith(f"{CAPACITY_UNAVAILABLE}:")


def _is_batch_job(cause: Any) -> bool:
    return isinstance(cause, dict) and any(k in cause for k in ("JobId", "Container", "JobQueue"))


def _typed(name: str, message: Any, error: str) -> Classification | None:
    """A typed error of the contract, by its name: bad input or the SUPERSEDED outcome (None: neither)."""
    if name == SUPERSEDED_ERROR:
        return Classification(name, SUPERSEDED, str(message or name), error)
    if name in BAD_INPUT_ERROR_NAMES:
        return Classification(name, BAD_INPUT, str(message or name), error)
    return None


def says_object_archived(text: Any) -> bool:
    """An S3 error text naming InvalidObjectState (a cold object read anywhere: a Lambda's botocore
    ClientError message, a job's error): the same outcome as the probe's ObjectArchived."""
    return isinstance(text, str) and any(f"({code})" in text for code in OBJECT_ARCHIVED)


def _archived(name: str, cause: Any) -> Classification | None:
    """ObjectArchived / ArchiveRestoring by name (their message carries the ArchiveInfo), or any S3 error
    text naming InvalidObjectState: a cold object is never internal (None: not cold)."""
    error_type = str(_get(cause, "errorType") or name)
    message = _get(cause, "errorMessage") if isinstance(cause, dict) else cause
    if error_type in ARCHIVE_ERRORS:
        text, archive = archive_error_payload(message)
        return Classification(error_type, ARCHIVED, text or error_type, name, archive=archive)
    if says_object_archived(message) or says_object_archived(cause):
        return Classification(ARCHIVED_ERROR, ARCHIVED, str(message or cause), name)
    return None


def classify(error: Any) -> Classification:
    error = error if isinstance(error, dict) else {}
    name = str(error.get("Error") or REASON_UNKNOWN)
    cause = parse_cause(error.get("Cause"))

    typed = _typed(name, _get(cause, "errorMessage") if isinstance(cause, dict) else cause, name)
    if typed is not None:
        return typed

    archived = _archived(name, cause)
    if archived is not None:
        return archived

    if _is_batch_job(cause):
        exit_code, status_reason, job_id, attempts = batch_details(cause)
        if is_capacity_unavailable(status_reason):
            # The queue's JobStateTimeLimitActions cancelled it in RUNNABLE; its reason names what to check.
            return Classification(
                CAPACITY_UNAVAILABLE,
                CAPACITY,
                str(status_reason),
                name,
                exit_code,
                status_reason,
                job_id,
                attempts,
            )
        if exit_code == GPU_JOB_EXIT_SUPERSEDED:
            message = f"gpu_job found that the key no longer holds the upload (exit {exit_code})"
            reason, reason_class = SUPERSEDED_ERROR, SUPERSEDED
        elif exit_code == GPU_JOB_EXIT_BAD_INPUT:
            message = f"gpu_job rejected the input (exit {exit_code})"
            reason, reason_class = REASON_GPU_BAD_INPUT, BAD_INPUT
        else:
            message = f"Batch job failed (exit {exit_code}): {status_reason or 'no status reason'}"
            if attempts:
                message += f" after {attempts} attempt(s)"
            reason, reason_class = REASON_BATCH_FAILED, INTERNAL
        return Classification(reason, reason_class, message, name, exit_code, status_reason, job_id, attempts)

    if isinstance(cause, dict) and ("errorType" in cause or "errorMessage" in cause):
        error_type = str(cause.get("errorType") or name)
        # a typed error wrapped under a generic Error name is still typed
        typed = _typed(error_type, cause.get("errorMessage"), name)
        if typed is not None:
            return typed
        return Classification(error_type, INTERNAL, str(cause.get("errorMessage") or error_type), name)

    message = cause if isinstance(cause, str) and cause else name
    if name == CAPACITY_UNAVAILABLE:  # the ASL's PoolCapacityUnavailable: no pool worker answered in time
        return Classification(name, CAPACITY, str(message), name)
    return Classification(name, INTERNAL, str(message), name)
