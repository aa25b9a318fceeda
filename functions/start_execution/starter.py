"""Start one per-file execution per upload event taken from UploadQueue, named after the file.

Each SQS record's body is the EventBridge event the upload rule queued. Per record, one outcome:

- ``started``: StartExecution accepted the name (a new execution, or, for the identical event while
  that execution still runs, the same one: StartExecution is idempotent on name and input).
- ``duplicate``: ``ExecutionAlreadyExists``: this upload already has its execution (a duplicate
  delivery, or an identical re-upload of an unversioned object); refused by name, nothing to retry.
- ``ignored``: a folder marker, or a key ending in one of IGNORE_KEY_SUFFIXES; no execution.
- ``invalid``: the body is not an S3 Object Created event. It is not dropped: an execution starts
  under a name derived from the body's hash (a redelivery is refused by name too) with the body as
  input, so Claim raises its typed bad-input error and RecordFailure records it, like any bad input
  (never retried, visible in the console, the catalog and the failure metrics).
- ``retry``: StartExecution failed otherwise (throttling, a service error, a deployment fault). The
  record is reported as a batch item failure: SQS redelivers it after the visibility timeout, and
  after the queue's maxReceiveCount parks it in the dead-letter queue. Nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote_plus

from botocore.exceptions import BotoCoreError, ClientError
from pipeline.contracts import UploadedObject
from pipeline.exact_upload import error_code
from pipeline.naming import execution_name
from pipeline.outcomes import UnsupportedInput
from pipeline.uploads import OBJECT_RESTORE_COMPLETED, ignore_reason, uploaded_object_from_event

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient


Outcome = Literal["started", "duplicate", "ignored", "invalid", "retry"]
OBJECT_CREATED = "Object Created"
RESTORED_SUFFIX = "restored"
STARTING_EVENTS = frozenset({OBJECT_CREATED, OBJECT_RESTORE_COMPLETED})
# Step Functions accepts at most 256 KiB of execution input; an unreadable body is cut well below it.
MAX_UNREADABLE_CHARS = 200_000
INVALID_PREFIX = "invalid-event-"
THROTTLING = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalFailure",
        "ExecutionLimitExceeded",
    }
)


@dataclass(frozen=True)
class SqsRecord:
    message_id: str
    body: str


@dataclass(frozen=True)
class RecordOutcome:
    """What became of one record (the handler logs it and counts it)."""

    message_id: str
    outcome: Outcome
    name: str | None = None
    source_uri: str | None = None
    execution_arn: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StartPlan:
    """What to do with one record before calling Step Functions."""

    outcome: Literal["start", "ignored", "invalid"]
    name: str | None
    input: str | None
    source: UploadedObject | None = None
    reason: str | None = None


def invalid_name(body: str) -> str:
    """Deterministic per body: a redelivered bad record is refused by name like any duplicate."""
    return INVALID_PREFIX + hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def plan_record(body: str, ignored_suffixes: Sequence[str]) -> StartPlan:
    """Name and input for one record, or why none is started."""
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        wrapped = json.dumps({"unreadable_message": body[:MAX_UNREADABLE_CHARS]})
        return StartPlan("invalid", invalid_name(body), wrapped, reason="body is not a JSON object")
    if event.get("source") != "aws.s3" or event.get("detail-type") not in STARTING_EVENTS:
        reason = f"not an S3 Object Created event: {event.get('source')!r} {event.get('detail-type')!r}"
        return StartPlan("invalid", invalid_name(body), body, reason=reason)
    try:
        source = uploaded_object_from_event(event)
    except UnsupportedInput as exc:
        raw_key = ((event.get("detail") or {}).get("object") or {}).get("key")
        ignored = ignore_reason(unquote_plus(raw_key), ignored_suffixes) if isinstance(raw_key, str) else None
        if ignored:
            return StartPlan("ignored", None, None, reason=ignored)
        return StartPlan("invalid", invalid_name(body), body, reason=str(exc))
    ignored = ignore_reason(source.key, ignored_suffixes)
    if ignored:
        return StartPlan("ignored", None, None, source=source, reason=ignored)
    # The upload's first execution has its plain name; the one on its restored copy is distinct from it,
    # and every delivery of that restore's event gets the same name (refused as a duplicate).
    suffix = RESTORED_SUFFIX if event.get("detail-type") == OBJECT_RESTORE_COMPLETED else ""
    return StartPlan("start", execution_name(source, suffix), body, source=source)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return error_code(exc) or "ClientError"
    return type(exc).__name__


def start_one(
    sfn: SFNClient, state_machine_arn: str, record: SqsRecord, ignored_suffixes: Sequence[str]
) -> RecordOutcome:
    plan = plan_record(record.body, ignored_suffixes)
    uri = plan.source.uri if plan.source else None
    if plan.outcome == "ignored":
        return RecordOutcome(record.message_id, "ignored", source_uri=uri, reason=plan.reason)
    assert plan.name is not None and plan.input is not None
    try:
        response = sfn.start_execution(stateMachineArn=state_machine_arn, name=plan.name, input=plan.input)
    except ClientError as exc:
        code = _error_code(exc)
        if code == "ExecutionAlreadyExists":
            return RecordOutcome(record.message_id, "duplicate", plan.name, uri, reason=code)
        return RecordOutcome(record.message_id, "retry", plan.name, uri, reason=code)
    except BotoCoreError as exc:  # connection or timeout errors after botocore's own retries
        return RecordOutcome(record.message_id, "retry", plan.name, uri, reason=_error_code(exc))
    outcome: Outcome = "invalid" if plan.outcome == "invalid" else "started"
    return RecordOutcome(
        record.message_id, outcome, plan.name, uri, response.get("executionArn"), reason=plan.reason
    )


def start_executions(
    sfn: SFNClient, state_machine_arn: str, records: Iterable[SqsRecord], ignored_suffixes: Sequence[str] = ()
) -> list[RecordOutcome]:
    """One outcome per record, in order; no record raises."""
    return [start_one(sfn, state_machine_arn, record, ignored_suffixes) for record in records]


def batch_response(outcomes: Iterable[RecordOutcome]) -> dict[str, list[dict[str, str]]]:
    """The SQS partial batch response: only the records to retry go back to the queue."""
    return {"batchItemFailures": [{"itemIdentifier": o.message_id} for o in outcomes if o.outcome == "retry"]}


def is_throttling(code: str | None) -> bool:
    return code in THROTTLING
