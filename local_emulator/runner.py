"""Deliver uploads to the local stack the way AWS does, one or many at once, and report each run.

With a local stack running (``local_emulator.stack.local_stack``), its ingress (``local_emulator.ingress``)
is the real shape: an upload to the input bucket makes S3 emit the AWS-shaped ``Object Created``
event, the template's rule (moto's matcher on the stored pattern) queues it on ``UploadQueue``, and
the emulated SQS event source runs ``StartExecutionFunction``, which starts the execution named
``pipeline.naming.execution_name(upload)`` or refuses a duplicate by that name. The helpers
here upload, then wait for the execution the upload's name designates:

- :func:`upload_and_run`: one upload, its event and its execution's report.
- :func:`deliver`: (re)deliver one event as EventBridge would (at-least-once: a duplicate delivery);
  the report of the execution the event's name designates, None when the rule or the starter skips it.
- :func:`upload_many`: many uploads at once from a thread pool, executions in flight together, exact
  duplicate deliveries on request; per-upload reports and the load figures (:class:`LoadReport`).

Without a running ingress (a bare ``deploy()``), :func:`deliver` and :func:`start_execution` start the
named execution directly, as the starter would.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local_emulator import ingress as local_ingress
from local_emulator.aws import LocalDeployment
from local_emulator.template import ACCOUNT_ID, REGION, REPO_ROOT

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
STARTER = "StartExecutionFunction"


def _functions() -> None:
    """The starter's own modules name executions here (no second copy of the naming rule)."""
    path = str(REPO_ROOT / "functions")
    if path not in sys.path:
        sys.path.insert(0, path)


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


def object_created_event(
    bucket: str, key: str, size: int, etag: str, version_id: str | None = None, reason: str = "PutObject"
) -> dict[str, Any]:
    """The EventBridge event S3 emits for a new object (key URL-encoded, as S3 does)."""
    return local_ingress.s3_object_created_event(bucket, key, size, etag, version_id, reason)


def event_for_object(bucket: str, key: str) -> dict[str, Any]:
    """The Object Created event of an object already in (local) S3: the very event its upload emitted
    when the local ingress saw it (its sequencer names the execution on an unversioned bucket), else
    one built like it."""
    head = boto3.client("s3", region_name=REGION).head_object(Bucket=bucket, Key=key)
    ingress = local_ingress.active()
    if ingress is not None:
        etag = str(head["ETag"]).strip('"')
        for event in reversed(list(ingress.emitted)):
            obj = event.get("detail", {}).get("object", {})
            if (
                event.get("detail", {}).get("bucket", {}).get("name") == bucket
                and _event_key(event) == key
                and str(obj.get("etag", "")).strip('"') == etag
            ):
                return event
    return object_created_event(bucket, key, head["ContentLength"], head["ETag"], head.get("VersionId"))


def rule_matches(deployment: LocalDeployment, event: dict[str, Any]) -> bool:
    """Whether the template's upload rule (as deployed locally) would deliver this event."""
    from moto.events.models import EventPattern

    events = boto3.client("events", region_name=REGION)
    pattern = events.describe_rule(Name=deployment.upload_rule_name)["EventPattern"]
    return EventPattern.load(pattern).matches_event(event)


def ignored_suffixes(deployment: LocalDeployment) -> tuple[str, ...]:
    """IGNORE_KEY_SUFFIXES as the deployed starter reads it."""
    _functions()
    from pipeline.settings import Settings

    config = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=deployment.ref(STARTER)
    )
    return Settings.from_env(config.get("Environment", {}).get("Variables", {})).ignored_suffixes()


def planned_name(deployment: LocalDeployment, event: dict[str, Any]) -> str | None:
    """The execution name the starter gives this event; None when it skips it (folder marker, ignored
    suffix)."""
    _functions()
    from start_execution.starter import plan_record

    plan = plan_record(json.dumps(event), ignored_suffixes(deployment))
    return None if plan.outcome == "ignored" else plan.name


def execution_arn(deployment: LocalDeployment, name: str) -> str:
    machine = deployment.state_machine_arn.rsplit(":", 1)[-1]
    return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:execution:{machine}:{name}"


def start_execution(deployment: LocalDeployment, event: dict[str, Any]) -> str:
    """Start the execution the starter would start for this event, or find the one its name already has."""
    name = planned_name(deployment, event)
    if name is None:
        raise ValueError("the starter skips this object (folder marker or ignored suffix): no execution")
    sfn = boto3.client("stepfunctions", region_name=REGION)
    try:
        return str(
            sfn.start_execution(
                stateMachineArn=deployment.state_machine_arn, name=name, input=json.dumps(event)
            )["executionArn"]
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return execution_arn(deployment, name)  # refused by name: the upload's execution exists


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
    return _report(sfn, described, time.monotonic() - started)


def _report(sfn: Any, described: dict[str, Any], seconds: float) -> ExecutionReport:
    arn = described["executionArn"]
    history = _history(sfn, arn)
    states = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    failures = [
        {k: str(v) for k, v in details.items()}
        for e in history
        for key, details in e.items()
        if key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails")
    ]
    output = json.loads(described["output"]) if described.get("output") else None
    return ExecutionReport(
        execution_arn=arn,
        status=described["status"],
        states=states,
        output=output,
        error=described.get("error"),
        cause=described.get("cause"),
        seconds=seconds,
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


def _wait_started(name: str, deployment: LocalDeployment, timeout_s: float) -> str:
    """The ARN of the named execution once the starter has started it (it may have been, long ago)."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = execution_arn(deployment, name)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            sfn.describe_execution(executionArn=arn)
            return arn
        except sfn.exceptions.ExecutionDoesNotExist:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no execution {name} after {timeout_s:.0f} s: the upload was lost"
                    " (see the upload queue's dead-letter queue)"
                ) from None
            time.sleep(0.05)


def deliver(
    deployment: LocalDeployment, event: dict[str, Any], timeout_s: float = 900.0
) -> ExecutionReport | None:
    """EventBridge's part: deliver the event (again); the report of the execution its name designates.

    None when the rule does not match it or the starter skips it. A duplicate delivery starts nothing:
    the report is that of the upload's execution, started by the first delivery."""
    if not rule_matches(deployment, event):
        return None
    name = planned_name(deployment, event)
    ingress = local_ingress.active()
    if ingress is None:
        return None if name is None else wait_for(start_execution(deployment, event), timeout_s=timeout_s)
    ingress.put_s3_event(event)
    ingress.wait_idle(timeout_s)
    if name is None:
        return None
    return wait_for(_wait_started(name, deployment, 5.0), timeout_s=timeout_s)


def _event_key(event: dict[str, Any]) -> str:
    return urllib.parse.unquote_plus(str(event.get("detail", {}).get("object", {}).get("key", "")))


def upload_and_run(
    deployment: LocalDeployment, local_path: str, key: str, timeout_s: float = 900.0, **put_options: Any
) -> tuple[dict[str, Any], ExecutionReport | None]:
    """Upload a file to the input bucket; its Object Created event and its execution's report.
    ``put_options``: more PutObject parameters (``StorageClass``, ``Tagging``...)."""
    s3 = boto3.client("s3", region_name=REGION)
    ingress = local_ingress.active()
    # put_object, not upload_file: s3transfer would PUT from a worker thread, and the event this upload
    # made is found as the last one emitted in this thread.
    s3.put_object(Bucket=deployment.input_bucket, Key=key, Body=Path(local_path).read_bytes(), **put_options)
    if ingress is None:
        event = event_for_object(deployment.input_bucket, key)
        return event, deliver(deployment, event, timeout_s=timeout_s)
    event = ingress.last_event_in_this_thread()
    if event is None or _event_key(event) != key:
        event = event_for_object(deployment.input_bucket, key)
    ingress.wait_idle(timeout_s)
    if not rule_matches(deployment, event):
        return event, None
    name = planned_name(deployment, event)
    if name is None:
        return event, None
    return event, wait_for(_wait_started(name, deployment, 5.0), timeout_s=timeout_s)


# ---------------------------------------------------------------- many uploads at once
@dataclass(frozen=True)
class Upload:
    """One upload of a load: bytes from a file or given, and how often EventBridge delivers it again."""

    key: str
    source: str | Path | bytes
    redeliveries: int = 0  # exact duplicate deliveries of the upload's own S3 event (same event id)


@dataclass
class UploadReport:
    key: str
    etag: str
    version_id: str | None
    size: int
    execution_name: str | None  # None: the rule or the starter skips the object
    outcome: str  # finished | skipped | lost (never started) | hung (not terminal by the deadline)
    status: str | None = None  # the execution's terminal status
    execution_arn: str | None = None
    catalog_status: str | None = None
    catalog_reason: str | None = None
    event: dict[str, Any] | None = field(default=None, repr=False)


@dataclass
class LoadReport:
    uploads: list[UploadReport]
    wall_s: float
    deliveries: int  # S3 events put on the bus (uploads + exact redeliveries)
    received: int  # records the starter was given (a retried record counts again)
    executions_started: int
    duplicates_refused: int  # StartExecution refused by name (or answered idempotently)
    distinct_executions: int
    terminal: dict[str, int]  # execution status -> distinct executions
    skipped: int
    lost: int
    hangs: int
    gpu_jobs: int
    duplicate_gpu_jobs: int  # per-file Batch jobs for an (uri, etag) that already had one
    max_running: int  # most executions RUNNING at once (sampled)
    dead_lettered: int  # upload events in UploadEventDeadLetterQueue
    item_failures: int  # records the starter reported failed (retried by SQS)

    def figures(self) -> dict[str, Any]:
        """Everything but the per-upload reports, for printing or JSON."""
        return {k: v for k, v in asdict(self).items() if k != "uploads"}


def _bytes(source: str | Path | bytes) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def _gpu_job_sources(bridge: Any, since: int) -> list[tuple[str, str]]:
    found = []
    for job in bridge.batch_jobs[since:] if bridge is not None else []:
        if job.command[:1] == ["--request"] and len(job.command) == 2:
            source = json.loads(job.command[1]).get("source") or {}
            found.append((str(source.get("uri")), str(source.get("etag"))))
    return found


def _catalog(deployment: LocalDeployment, report: UploadReport) -> None:
    if report.event is None:
        return
    _functions()
    from pipeline.uploads import uploaded_object_from_event

    source = uploaded_object_from_event(report.event)
    table = boto3.resource("dynamodb", region_name=REGION).Table(deployment.catalog_table)
    row = table.get_item(Key={"source_uri": source.uri, "etag": source.etag}).get("Item") or {}
    report.catalog_status = row.get("status")
    report.catalog_reason = row.get("reason")


def _executions(sfn: Any, deployment: LocalDeployment) -> list[dict[str, Any]]:
    """Every execution of the state machine (name, executionArn, status), all pages."""
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=deployment.state_machine_arn)
    return [e for page in pages for e in page["executions"]]


def upload_many(
    deployment: LocalDeployment,
    uploads: Sequence[tuple[str | Path | bytes, str] | Upload],
    timeout_s: float = 900.0,
    workers: int = 8,
) -> LoadReport:
    """Upload concurrently (``workers`` threads) through the running ingress; wait for every execution.

    ``uploads``: ``(local path or bytes, key)`` pairs or :class:`Upload` items (in order; the same key
    twice is an overwrite). Returns one :class:`UploadReport` per upload and the load's figures."""
    ingress = local_ingress.active()
    if ingress is None:
        raise RuntimeError("upload_many needs the local stack's ingress (local_emulator.stack.local_stack)")
    items = [u if isinstance(u, Upload) else Upload(key=u[1], source=u[0]) for u in uploads]
    s3 = boto3.client("s3", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    suffixes = ignored_suffixes(deployment)
    _functions()
    from start_execution.starter import plan_record

    emitted_before, starts_before = len(ingress.emitted), len(ingress.starts)
    received_before = sum(p.stats.received for p in ingress.pollers)
    failures_before = sum(p.stats.item_failures for p in ingress.pollers)
    jobs_before = len(ingress.bridge.batch_jobs) if ingress.bridge is not None else 0
    running_peak = [0]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.25):
            listed = sfn.list_executions(
                stateMachineArn=deployment.state_machine_arn, statusFilter="RUNNING", maxResults=1000
            )
            running_peak[0] = max(running_peak[0], len(listed["executions"]))

    def put(item: Upload) -> UploadReport:
        body = _bytes(item.source)
        response = s3.put_object(Bucket=deployment.input_bucket, Key=item.key, Body=body)
        event = ingress.last_event_in_this_thread()
        etag, version = response["ETag"].strip('"'), response.get("VersionId")
        if event is None or event["detail"]["object"]["etag"] != etag:
            event = object_created_event(deployment.input_bucket, item.key, len(body), etag, version)
        for _ in range(item.redeliveries):
            ingress.put_s3_event(event)
        matched = rule_matches(deployment, event)
        plan = plan_record(json.dumps(event), suffixes) if matched else None
        name = plan.name if plan is not None and plan.outcome != "ignored" else None
        return UploadReport(
            key=item.key,
            etag=etag,
            version_id=version,
            size=len(body),
            execution_name=name,
            outcome="skipped" if name is None else "pending",
            event=event,
        )

    started = time.monotonic()
    sampler = threading.Thread(target=sample, name="load-sampler", daemon=True)
    sampler.start()
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="upload") as pool:
            reports = list(pool.map(put, items))
        deadline = started + timeout_s
        pending = {r.execution_name for r in reports if r.execution_name}
        described: dict[str, dict[str, Any]] = {}
        # One paginated ListExecutions a round, not a DescribeExecution per pending upload: with 200 in
        # flight those calls took the CPU (and the GIL) the executions themselves need.
        while pending and time.monotonic() < deadline:
            for found in _executions(sfn, deployment):
                if found["name"] in pending:
                    described[found["name"]] = found
                    if found["status"] in TERMINAL:
                        pending.discard(found["name"])
            if pending:
                time.sleep(0.5)
        with_time_left = max(1.0, deadline - time.monotonic())
        with contextlib.suppress(TimeoutError):
            ingress.wait_idle(min(with_time_left, 60.0))
    finally:
        sampling.set()
        sampler.join(timeout=5)
    wall_s = time.monotonic() - started

    for report in reports:
        if report.execution_name is None:
            continue
        found = described.get(report.execution_name)
        if found is None:
            report.outcome = "lost"
            continue
        report.execution_arn = found["executionArn"]
        report.status = found["status"]
        report.outcome = "finished" if found["status"] in TERMINAL else "hung"
        _catalog(deployment, report)

    starts = Counter(s.outcome for s in ingress.starts[starts_before:])
    distinct = {r.execution_name: r.status for r in reports if r.execution_name and r.status}
    job_sources = _gpu_job_sources(ingress.bridge, jobs_before)
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_attributes(
        QueueUrl=deployment.ref("UploadEventDeadLetterQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return LoadReport(
        uploads=reports,
        wall_s=wall_s,
        deliveries=len(ingress.emitted) - emitted_before,
        received=sum(p.stats.received for p in ingress.pollers) - received_before,
        executions_started=starts.get("started", 0),
        duplicates_refused=starts.get("refused", 0) + starts.get("idempotent", 0),
        distinct_executions=len({r.execution_name for r in reports if r.execution_name}),
        terminal=dict(Counter(distinct.values())),
        skipped=sum(1 for r in reports if r.outcome == "skipped"),
        lost=sum(1 for r in reports if r.outcome == "lost"),
        hangs=sum(1 for r in reports if r.outcome == "hung"),
        gpu_jobs=len(job_sources),
        duplicate_gpu_jobs=len(job_sources) - len(set(job_sources)),
        max_running=running_peak[0],
        dead_lettered=int(dlq["ApproximateNumberOfMessages"]),
        item_failures=sum(p.stats.item_failures for p in ingress.pollers) - failures_before,
    )
