"""The deployed ingress, locally: S3 Object Created -> rule -> UploadQueue -> starter -> execution.

Started by ``local_emulator.stack.local_stack`` as a background service, so that any upload to the
local input bucket (boto3 here, or the ``aws`` CLI against ``make serve``) starts its execution the
way it does on AWS, through the template's own rule, queue and StartExecutionFunction:

- S3 -> EventBridge: moto's S3 emits the Object Created event on PutObject, CopyObject and
  CompleteMultipartUpload and hands it to moto's rules (moto's pattern matcher on the stored pattern),
  whose SQS target (``UploadQueue``, from the template) receives it.
- UploadQueue -> StartExecutionFunction: :class:`EventSourcePoller` plays Lambda's SQS poller for every
  SQS event source the template declares (``Events: Type: SQS``): it receives batches, invokes the
  function through the Lambda bridge with an AWS-shaped SQS event, deletes the records that succeeded
  and leaves the ``batchItemFailures`` (or the whole batch, on a function error) to come back, so the
  queue's redrive policy parks a record that keeps failing in the dead-letter queue, as on AWS.

Test support only: nothing under ``functions/`` knows about it. It bridges gaps 10-14 and 25 of
local_emulator/README.md (S3's EventBridge event shape, Lambda's SQS poller, rule retries, atomic
object writes, time compression, S3's request id); every StartExecution moto answers is recorded in
:attr:`LocalIngress.starts` (started / idempotent / refused), the figures ``runner.upload_many`` reports.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_emulator.aws import LocalDeployment
from local_emulator.template import ACCOUNT_ID, REGION

LOG = logging.getLogger(__name__)
OBJECT_CREATED_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "PostObject",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}

_ACTIVE: LocalIngress | None = None


def active() -> LocalIngress | None:
    """The ingress of the local stack running in this process, if any."""
    return _ACTIVE


class _Sequencer:
    """S3's sequencer: a hex string that grows with each event (compared per key, after padding)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:020X}"


SEQUENCER = _Sequencer()


class _RequestIds:
    """Gap 25: the request id an S3 event names is the one its write's response carries. The event is
    built inside the write (moto's backend), the response after it, in the same thread."""

    def __init__(self) -> None:
        self._pending = threading.local()

    def draw(self) -> str:
        request_id = uuid.uuid4().hex[:16].upper()  # AWS's shape: 16 upper-case characters
        self._pending.id = request_id
        return request_id

    def responder(self, original: Any) -> Any:
        pending = self._pending

        def gen_amzn_requestid_long(headerdict: dict[str, Any] | None = None) -> str:
            request_id = getattr(pending, "id", None)
            if request_id is None:
                return original(headerdict)
            pending.id = None
            if isinstance(headerdict, dict):
                headerdict["x-amzn-requestid"] = request_id
            return request_id

        return gen_amzn_requestid_long


REQUEST_IDS = _RequestIds()


def s3_object_created_event(
    bucket: str, key: str, size: int, etag: str, version_id: str | None, reason: str
) -> dict[str, Any]:
    """What AWS S3 puts on EventBridge for a new object (gap 10): the workflow's own event writer
    (functions/pipeline/uploads.py) with a fresh id and a growing sequencer, as S3 gives them."""
    from pipeline.contracts import UploadedObject
    from pipeline.uploads import object_created_event  # functions/ is on sys.path in a local stack

    version = version_id if version_id and version_id != "null" else None
    source = UploadedObject(
        bucket=bucket,
        key=key,
        etag=etag.strip('"'),
        version_id=version,
        size=size,
        uri=f"s3://{bucket}/{key}",
        sequencer=SEQUENCER.next(),
    )
    return object_created_event(
        source,
        account=ACCOUNT_ID,
        region=REGION,
        time=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        event_id=str(uuid.uuid4()),
        request_id=REQUEST_IDS.draw(),
        reason=reason,
        source_ip="127.0.0.1",
    )


def _for_moto(event: dict[str, Any]) -> dict[str, Any]:
    """moto's targets expect ``time`` as epoch seconds and format it back to AWS's ISO string."""
    copy = dict(event)
    when = copy.get("time")
    if isinstance(when, str):
        parsed = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
        copy["time"] = parsed.timestamp()
    return copy


_WRITE_LOCK = threading.RLock()


def _serialised(write: Any) -> Any:
    """Gap 13: one object write (and its S3 event) at a time."""

    def serialised(*args: Any, **kwargs: Any) -> Any:
        with _WRITE_LOCK:
            return write(*args, **kwargs)

    return serialised


SAMPLE_SQS_ATTRIBUTES = {
    "ApproximateReceiveCount": "1",
    "SentTimestamp": "1700000000000",
    "SenderId": "AIDAEVENTS",
    "ApproximateFirstReceiveTimestamp": "1700000000001",
}


def sqs_record(
    message_id: str,
    receipt_handle: str,
    body: str,
    queue_arn: str,
    attributes: dict[str, str] | None = None,
    md5_of_body: str = "0" * 32,
) -> dict[str, Any]:
    """One record of the event Lambda's SQS event source gives a function (the AWS shape)."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": dict(SAMPLE_SQS_ATTRIBUTES if attributes is None else attributes),
        "messageAttributes": {},
        "md5OfBody": md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


SAMPLE_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:uploads"


def sqs_event(bodies: list[str], queue_arn: str = SAMPLE_QUEUE_ARN) -> dict[str, Any]:
    """An SQS event of these message bodies (tests and benchmarks call the starter with it)."""
    return {"Records": [sqs_record(f"m{i}", f"r{i}", body, queue_arn) for i, body in enumerate(bodies)]}


@dataclass
class StartRecord:
    name: str
    # started | idempotent (same name and input, still running) | refused (ExecutionAlreadyExists)
    outcome: str
    at: float


@dataclass
class PollerStats:
    received: int = 0
    batches: int = 0
    deleted: int = 0
    item_failures: int = 0
    function_errors: int = 0


class EventSourcePoller:
    """Lambda's poller for one SQS event source (gap 11): receive, invoke, delete the successes."""

    def __init__(
        self,
        function_name: str,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_item_failures: bool,
        retry_after_s: float | None,
        stop: threading.Event,
    ) -> None:
        self.function_name = function_name
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = max(1, min(10, batch_size))
        self.report_item_failures = report_item_failures
        self.retry_after_s = retry_after_s
        self.stop = stop
        self.stats = PollerStats()
        self.busy = threading.Event()
        # Clients are thread-safe to use; creating them is not: made here, in the starting thread.
        self._sqs = boto3.client("sqs", region_name=REGION)
        self._lambda = boto3.client("lambda", region_name=REGION)
        self.thread = threading.Thread(target=self._run, name=f"esm-{function_name}", daemon=True)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {k: str(v) for k, v in message.get("Attributes", {}).items()}
        return sqs_record(
            message["MessageId"],
            message["ReceiptHandle"],
            message["Body"],
            self.queue_arn,
            attributes,
            message["MD5OfBody"],
        )

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once(wait_s=1)
            except Exception:  # keep polling, as Lambda does; the record comes back after its visibility
                LOG.exception("event source poller for %s failed a batch", self.function_name)
                self.busy.clear()
                time.sleep(0.2)

    def poll_once(self, wait_s: int = 0) -> int:
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        self.busy.set()
        try:
            self.stats.received += len(received)
            self.stats.batches += 1
            by_id = {m["MessageId"]: m for m in received}
            batch = {"Records": [self._record(m) for m in received]}
            response = self._lambda.invoke(FunctionName=self.function_name, Payload=json.dumps(batch))
            payload = json.loads(response["Payload"].read() or b"null")
            if response.get("FunctionError"):
                self.stats.function_errors += 1
                failed = set(by_id)
            elif self.report_item_failures and isinstance(payload, dict):
                named = [f.get("itemIdentifier") for f in payload.get("batchItemFailures") or []]
                # AWS: an empty or unknown identifier fails the whole batch
                failed = set(by_id) if any(n not in by_id for n in named) else set(named)
            else:
                failed = set()
            self.stats.item_failures += len(failed)
            done = [m for mid, m in by_id.items() if mid not in failed]
            for chunk in range(0, len(done), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[chunk : chunk + 10])
                ]
                self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            self.stats.deleted += len(done)
            if self.retry_after_s is not None:
                for mid in failed:
                    self._sqs.change_message_visibility(
                        QueueUrl=self.queue_url,
                        ReceiptHandle=by_id[mid]["ReceiptHandle"],
                        VisibilityTimeout=int(self.retry_after_s),
                    )
            return len(received)
        finally:
            self.busy.clear()


@dataclass
class LocalIngress:
    """The running ingress of one local stack: patches installed, pollers polling."""

    deployment: LocalDeployment
    bridge: Any = None  # local_emulator.bridges.Bridge: what the load figures count GPU jobs from
    retry_after_s: float | None = 1.0
    emitted: list[dict[str, Any]] = field(default_factory=list)
    starts: list[StartRecord] = field(default_factory=list)
    delivery_errors: list[str] = field(default_factory=list)
    pollers: list[EventSourcePoller] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.silent = threading.Event()  # set: S3 writes send no event (silenced)
        self._undo: list[tuple[Any, str, Any]] = []
        self._thread_events = threading.local()

    def last_event_in_this_thread(self) -> dict[str, Any] | None:
        """The S3 event the last upload made in this thread emitted (in-process S3 runs in the caller)."""
        return getattr(self._thread_events, "last", None)

    # -- S3 -> EventBridge (gap 10) -------------------------------------------------------------
    def put_s3_event(self, event: dict[str, Any]) -> bool:
        """Hand an S3 event to the default bus's rules, as S3 does; whether any rule matched it."""
        from moto.events.models import events_backends

        with self._lock:
            self.emitted.append(event)
        self._thread_events.last = event
        bus = events_backends[ACCOUNT_ID][REGION].event_buses.get("default")
        matched = False
        for rule in list(bus.rules.values()) if bus else []:
            if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
                continue
            matched = True
            try:
                rule.send_to_targets(_for_moto(event), transform_input=False)
            except Exception as exc:  # AWS would retry, then dead-letter; keep it visible here
                LOG.exception("delivering %s to rule %s failed", event.get("id"), rule.name)
                with self._lock:
                    self.delivery_errors.append(f"{rule.name}: {type(exc).__name__}: {exc}")
        return matched

    def _s3_sender(self) -> Any:
        ingress = self

        def send(account_id: str, bucket: Any, event_name: str, key: Any, _original: Any = None) -> None:
            reason = OBJECT_CREATED_REASONS.get(str(getattr(event_name, "value", event_name)))
            if ingress.silent.is_set():
                return
            if reason is None:
                if _original is not None:
                    _original(account_id, bucket, event_name, key)
                return
            version = getattr(key, "version_id", None) if bucket.is_versioned else None
            ingress.put_s3_event(
                s3_object_created_event(bucket.name, key.name, int(key.size), key.etag, version, reason)
            )

        return send

    # -- StartExecution observer --------------------------------------------------------------
    def _observer(self, original: Any) -> Any:
        ingress = self

        def start_execution(
            backend: Any,
            state_machine_arn: str,
            name: Any = None,
            execution_input: Any = None,
            trace_header: Any = None,
        ) -> Any:
            with ingress._lock:
                machine = backend.describe_state_machine(state_machine_arn)
                existed = any(e.name == name for e in machine.executions)
                try:
                    execution = original(backend, state_machine_arn, name, execution_input, trace_header)
                except Exception as exc:
                    if type(exc).__name__ == "ExecutionAlreadyExists":
                        ingress.starts.append(StartRecord(str(name), "refused", time.monotonic()))
                    raise
                ingress.starts.append(
                    StartRecord(str(name), "idempotent" if existed else "started", time.monotonic())
                )
                return execution

        return start_execution

    # -- lifecycle ------------------------------------------------------------------------------
    def _patch(self, owner: Any, name: str, new: Any) -> None:
        self._undo.append((owner, name, owner.__dict__.get(name)))
        setattr(owner, name, new)

    @contextlib.contextmanager
    def silenced(self) -> Iterator[None]:
        """S3 sends no event for what is written inside: objects that predate the stack (what a backfill
        is for), written through the same API."""
        self.silent.set()
        try:
            yield
        finally:
            self.silent.clear()

    def start(self) -> LocalIngress:
        global _ACTIVE
        import moto.s3.notifications as s3_notifications
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        original_sender = s3_notifications._send_event_bridge_message
        sender = self._s3_sender()
        self._patch(
            s3_notifications,
            "_send_event_bridge_message",
            lambda account_id, bucket, event_name, key: sender(
                account_id, bucket, event_name, key, original_sender
            ),
        )
        import moto.core.responses as moto_responses
        from moto.s3.models import S3Backend

        self._patch(
            moto_responses,
            "gen_amzn_requestid_long",
            REQUEST_IDS.responder(moto_responses.gen_amzn_requestid_long),
        )

        for method in ("put_object", "copy_object", "complete_multipart_upload"):
            self._patch(S3Backend, method, _serialised(getattr(S3Backend, method)))
        self._patch(
            StepFunctionsParserBackend,
            "start_execution",
            self._observer(StepFunctionsParserBackend.start_execution),
        )
        for poller in self._event_sources():
            self.pollers.append(poller)
            poller.thread.start()
        _ACTIVE = self
        return self

    def stop(self) -> None:
        global _ACTIVE
        self._stop.set()
        for poller in self.pollers:
            poller.thread.join(timeout=30)
        for owner, name, original in reversed(self._undo):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._undo.clear()
        if _ACTIVE is self:
            _ACTIVE = None

    def _event_sources(self) -> list[EventSourcePoller]:
        """One poller per ``Events: Type: SQS`` of the template's functions (no second list of them)."""
        resolver = self.deployment.resolver
        pollers = []
        for lid, resource in resolver.resources().items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            for source in (resource.get("Properties", {}).get("Events") or {}).values():
                if source.get("Type") != "SQS":
                    continue
                props = resolver.resolve(source["Properties"])
                queue_lid = next(
                    q for q, attrs in self.deployment.physical.items() if attrs.get("Arn") == props["Queue"]
                )
                responses = props.get("FunctionResponseTypes") or []
                pollers.append(
                    EventSourcePoller(
                        function_name=self.deployment.ref(lid),
                        queue_url=self.deployment.ref(queue_lid),
                        queue_arn=props["Queue"],
                        batch_size=int(props.get("BatchSize", 10)),
                        report_item_failures="ReportBatchItemFailures" in responses,
                        retry_after_s=self.retry_after_s,
                        stop=self._stop,
                    )
                )
        return pollers

    # -- what happened --------------------------------------------------------------------------
    def start_counts(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for record in self.starts:
                counts[record.outcome] = counts.get(record.outcome, 0) + 1
            return counts

    def queue_depth(self) -> int:
        sqs = boto3.client("sqs", region_name=REGION)
        total = 0
        for poller in self.pollers:
            attrs = sqs.get_queue_attributes(
                QueueUrl=poller.queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )
            total += sum(int(v) for v in attrs["Attributes"].values())
        return total

    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Until every queued upload event was handled (the queue is empty and no batch is in flight)."""
        deadline = time.monotonic() + timeout_s
        while self.queue_depth() or any(p.busy.is_set() for p in self.pollers):
            if time.monotonic() > deadline:
                raise TimeoutError(f"upload queue not drained after {timeout_s:.0f} s")
            time.sleep(0.05)


@contextlib.contextmanager
def running(
    deployment: LocalDeployment, bridge: Any = None, retry_after_s: float | None = 1.0
) -> Iterator[LocalIngress]:
    ingress = LocalIngress(deployment, bridge=bridge, retry_after_s=retry_after_s).start()
    try:
        yield ingress
    finally:
        ingress.stop()
