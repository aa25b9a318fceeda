"""Completion events: what Index and RecordFailure tell other systems, on EventBridge (docs/EVENTS.md).

Put after the catalog write, so a consumer that reads the catalog on the event finds the row. A
failed put raises TransientError: the state's Retry repeats the state, whose catalog write is
idempotent, so an event is delivered at least once (consumers deduplicate on the event's
``detail.execution_arn`` + ``detail-type``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

from pipeline.contracts import COMPLETION_EVENT_SOURCE, CompletionDetailType, CompletionEvent
from pipeline.outcomes import TransientError

if TYPE_CHECKING:
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef


EVENT_BUS_ENV = "EVENT_BUS_NAME"
DEFAULT_EVENT_BUS = "default"
DETAIL_TYPES: dict[str, CompletionDetailType] = {
    "TRANSCRIBED": "Transcript Ready",
    "FAILED": "Transcript Failed",
    "SUPERSEDED": "Transcript Superseded",
    "ARCHIVED": "Transcript Archived",
    "RESTORING": "Transcript Restoring",
}


def event_bus_name() -> str:
    return os.environ.get(EVENT_BUS_ENV, "").strip() or DEFAULT_EVENT_BUS


def entry(event: CompletionEvent, bus: str) -> dict[str, Any]:
    """The PutEvents entry for one completion event. Resources: the input bucket's ARN (an object ARN
    would carry the key, up to 1 KiB of any characters; the key is in the detail)."""
    return {
        "Source": COMPLETION_EVENT_SOURCE,
        "DetailType": DETAIL_TYPES[event.status],
        "Detail": event.model_dump_json(),
        "Resources": [f"arn:aws:s3:::{event.upload.bucket}"],
        "EventBusName": bus,
    }


def put_completion_event(
    events: EventBridgeClient, event: CompletionEvent, bus: str | None = None
) -> dict[str, Any]:
    """Put one event; TransientError when EventBridge refused it (the ASL retries the state)."""
    sent = entry(event, bus or event_bus_name())
    try:
        response = events.put_events(Entries=[cast("PutEventsRequestEntryTypeDef", sent)])
    except Exception as exc:  # throttling, endpoint trouble: all worth a retry of the idempotent state
        raise TransientError(f"PutEvents failed: {type(exc).__name__}: {exc}") from exc
    if response.get("FailedEntryCount"):
        failed = (response.get("Entries") or [{}])[0]
        raise TransientError(
            f"PutEvents refused the event: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}"
        )
    return sent
