"""Deliver uploads to the local state machine the way the EventBridge rule would, and report each run.

moto's S3 -> EventBridge notification cannot target Step Functions (and names the field ``eTag``),
so the runner plays EventBridge: it builds the ``Object Created`` event AWS sends for an upload
(URL-encoded key, size, etag, version-id), matches it against the rule's pattern as stored in
moto with moto's own rule matcher (moto 5.2.5 does not implement ``events:TestEventPattern``; the
matcher is the one its rules use for delivery), and starts one execution per matching event.
"""

from __future__ import annotations

import datetime
import json
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_emulator.aws import LocalDeployment
from local_emulator.template import ACCOUNT_ID, REGION

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class ExecutionReport:
    """What one execution did: enough for the demo to print and for tests to assert on."""

    execution_arn: str
    status: str
    states: list[str]
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    seconds: float
    task_failures: list[dict[str, str]] = field(default_factory=list)


def object_created_event(bucket: str, key: str, size: int, etag: str, version_id: str | None = None,
                         reason: str = "PutObject") -> dict[str, Any]:
    """The EventBridge event S3 emits for a new object (key URL-encoded, as S3 does)."""
    detail_object: dict[str, Any] = {
        "key": urllib.parse.quote_plus(key, safe="/"),
        "size": size,
        "etag": etag.strip('"'),
        "sequencer": f"{int(time.time() * 1e6):016X}",
    }
    if version_id and version_id != "null":
        detail_object["version-id"] = version_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT_ID,
        "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": detail_object,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": ACCOUNT_ID,
            "source-ip-address": "127.0.0.1",
            "reason": reason,
        },
    }


def event_for_object(bucket: str, key: str) -> dict[str, Any]:
    """The Object Created event of an object already in (local) S3."""
    head = boto3.client("s3", region_name=REGION).head_object(Bucket=bucket, Key=key)
    return object_created_event(bucket, key, head["ContentLength"], head["ETag"], head.get("VersionId"))


def rule_matches(deployment: LocalDeployment, event: dict[str, Any]) -> bool:
    """Whether the template's upload rule (as deployed locally) would deliver this event."""
    from moto.events.models import EventPattern

    events = boto3.client("events", region_name=REGION)
    pattern = events.describe_rule(Name=deployment.upload_rule_name)["EventPattern"]
    return EventPattern.load(pattern).matches_event(event)


def start_execution(deployment: LocalDeployment, event: dict[str, Any]) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sfn.start_execution(stateMachineArn=deployment.state_machine_arn, name=str(uuid.uuid4()),
                               input=json.dumps(event))["executionArn"]


def wait_for(execution_arn: str, timeout_s: float = 900.0, poll_s: float = 0.2) -> ExecutionReport:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    started = time.monotonic()
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] in TERMINAL:
            break
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{execution_arn} still {described['status']} after {timeout_s:.0f} s")
        time.sleep(poll_s)
    history = _history(sfn, execution_arn)
    states = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    failures = [
        {k: str(v) for k, v in details.items()}
        for e in history
        for key, details in e.items()
        if key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails")
    ]
    output = json.loads(described["output"]) if described.get("output") else None
    return ExecutionReport(
        execution_arn=execution_arn,
        status=described["status"],
        states=states,
        output=output,
        error=described.get("error"),
        cause=described.get("cause"),
        seconds=time.monotonic() - started,
        task_failures=failures,
    )


def _history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def deliver(deployment: LocalDeployment, event: dict[str, Any],
            timeout_s: float = 900.0) -> ExecutionReport | None:
    """EventBridge's part: run the workflow for the event if the rule matches it, else None."""
    if not rule_matches(deployment, event):
        return None
    return wait_for(start_execution(deployment, event), timeout_s=timeout_s)


def upload_and_run(deployment: LocalDeployment, local_path: str, key: str,
                   timeout_s: float = 900.0) -> tuple[dict[str, Any], ExecutionReport | None]:
    """Upload a file to the input bucket and deliver its Object Created event."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.upload_file(local_path, deployment.input_bucket, key)
    event = event_for_object(deployment.input_bucket, key)
    return event, deliver(deployment, event, timeout_s=timeout_s)
