"""The one place where moto 5.2.5 is patched so that the real ASL can run locally.

Test support only: nothing under ``functions/``, ``gpu_job/`` or ``statemachine/`` knows about it.
Each patch makes moto behave like AWS for exactly the calls our workflow makes, and is undone when
the bridge closes. The gaps are listed and numbered once, in local_emulator/README.md; this module
bridges gaps 1-4, 9, 15, 27 (definitions AWS refuses: ``local_emulator.asl_rules``), 29 (Lambda
service errors, a throttled function) and 30 (Batch capacity, RUNNABLE time limits) and installs
the others: 5-8 and 31 (``local_emulator.callbacks``), 16-22 and 28 (``local_emulator.distributed_map``),
26 (``local_emulator.s3_notifications``); 10-14 and 25 are the ingress's (``local_emulator.ingress``).
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, ItemsView, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moto
from moto.core.exceptions import JsonRESTError

from local_emulator.normalisers import botocore_normalisers

EXPECTED_MOTO_VERSION = "5.2.5"
REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
ANTLR_413_DIR = REPO_ROOT / "build" / "antlr4-4.13"
HOST_RECLAIM_REASON = "Host EC2 (instance i-0local0spot0reclaim) terminated."

# Only one in-process "compute" (a Lambda handler or a Batch attempt) runs at a time: they swap
# os.environ to their configured environment, which is process-global.
_COMPUTE_LOCK = threading.RLock()

JobRunner = Callable[[list[str], dict[str, str]], int]
# Runs a long-running (pool) job to its end: (command, environment, job id) -> exit code.
ServiceJobRunner = Callable[[list[str], dict[str, str], str], int]
SERVICE_COMMANDS = frozenset({"pool"})
# Gap 30: each job queue's JobStateTimeLimitActions (camelCase, as DescribeJobQueues returns them), by ARN.
QUEUE_TIME_LIMIT_ACTIONS: dict[str, list[dict[str, Any]]] = {}


@dataclass
class BatchAttempt:
    exit_code: int | None
    status_reason: str


@dataclass
class BatchJobRecord:
    """What the bridge saw of one submitted job (tests count and inspect these)."""

    job_id: str
    job_name: str
    job_queue: str
    job_definition: str
    command: list[str]
    attempts: list[BatchAttempt] = field(default_factory=list)
    status: str = "SUBMITTED"
    runnable_s: float = 0.0  # virtual RUNNABLE wait (gap 30); 0 when placed at once


@dataclass
class LambdaInvocation:
    function_name: str
    handler: str
    error_type: str | None
    seconds: float


class Bridge:
    """Installed patches plus what they observed. Use :func:`bridged` to install and remove them."""

    def __init__(self, job_runner: JobRunner, job_env_overrides: dict[str, str] | None = None) -> None:
        self.job_runner = job_runner
        self.job_env_overrides = dict(job_env_overrides or {})
        self.batch_jobs: list[BatchJobRecord] = []
        self.lambda_invocations: list[LambdaInvocation] = []
        self._reclaims_left = 0
        self._no_capacity: set[str] = set()
        self._throttled: dict[str, Callable[[dict[str, Any]], bool]] = {}
        self.throttled_invocations = 0
        self.service_job_runner: ServiceJobRunner | None = None
        self.service_threads: list[threading.Thread] = []

    def simulate_spot_reclaims(self, count: int) -> None:
        """The next ``count`` Batch attempts end as if the Spot instance was reclaimed."""
        self._reclaims_left = count

    def simulate_no_capacity(self, job_queue_arn: str) -> None:
        """Gap 30: no instance can be launched for this queue's jobs (e.g. a G vCPU quota of 0)."""
        if not any(a.get("state") == "RUNNABLE" for a in QUEUE_TIME_LIMIT_ACTIONS.get(job_queue_arn, [])):
            raise ValueError(
                f"{job_queue_arn} has no RUNNABLE JobStateTimeLimitActions: its jobs would wait for ever"
            )
        self._no_capacity.add(job_queue_arn)

    def throttle_function(
        self, function_name: str, when: Callable[[dict[str, Any]], bool] = lambda event: True
    ) -> None:
        """Gap 29: invocations of this function (name or ARN) whose event matches ``when`` answer 429
        TooManyRequestsException (e.g. only the state machine's calls, while its schedule gets through)."""
        self._throttled[function_name.rsplit(":", 1)[-1]] = when

    # -- Lambda -----------------------------------------------------------------------------
    def invoke_lambda(
        self,
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        fn = backend.get_function(function_name, qualifier)
        event = json.loads(body) if body else {}
        throttled = self._throttled.get(fn.function_name)
        if throttled is not None and throttled(event):
            self.throttled_invocations += 1
            raise TooManyRequests()
        handler = _import_handler(fn.handler)
        context = LocalLambdaContext(
            function_name=fn.function_name,
            invoked_function_arn=fn.function_arn,
            memory_limit_in_mb=int(fn.memory_size or 128),
            timeout_s=int(fn.timeout or 3),
        )
        started = time.monotonic()
        error_type: str | None = None
        # The Lambda runtime adds the region to the configured environment.
        env = {
            **(fn.environment_vars or {}),
            "AWS_REGION": backend.region_name,
            "AWS_DEFAULT_REGION": backend.region_name,
        }
        with _COMPUTE_LOCK, _environment(env):
            try:
                result = handler(event, context)
                payload = json.dumps(result, default=str).encode()
            except Exception as exc:  # the Lambda runtime reports any exception as a function error
                error_type = type(exc).__name__
                response_headers["x-amz-function-error"] = "Unhandled"
                payload = json.dumps(
                    {
                        "errorType": error_type,
                        "errorMessage": str(exc),
                        "requestId": context.aws_request_id,
                        "stackTrace": traceback.format_exception(exc),
                    }
                ).encode()
        self.lambda_invocations.append(
            LambdaInvocation(fn.function_name, fn.handler, error_type, time.monotonic() - started)
        )
        return payload

    # -- Batch ------------------------------------------------------------------------------
    def run_batch_job(self, backend: Any, job: Any) -> None:
        """Run a submitted job to completion, attempt by attempt, like AWS Batch would."""
        backend._jobs[job.job_id] = job
        job.log_stream_name = job._stream_name
        command = list(
            job.container_overrides.get("command")
            or job.job_definition.container_properties.get("command")
            or []
        )
        record = BatchJobRecord(job.job_id, job.job_name, job.job_queue.arn, job.job_definition.arn, command)
        self.batch_jobs.append(record)
        if job.job_queue.arn in self._no_capacity:
            self._cancel_runnable(job, record)
            return
        if command[:1] and command[0] in SERVICE_COMMANDS and self.service_job_runner is not None:
            self._start_service_job(job, record, command)
            return
        strategy = job.job_definition.retry_strategy or {}
        max_attempts = int(strategy.get("attempts") or 1)
        env = self._job_environment(job)

        attempt: BatchAttempt | None = None
        for number in range(1, max_attempts + 1):
            job.job_started_at = datetime.datetime.now()
            job._start_attempt()
            attempt = self._run_attempt(command, env)
            record.attempts.append(attempt)
            job.latest_attempt["statusReason"] = attempt.status_reason
            if attempt.exit_code is not None:
                job.latest_attempt["container"]["exitCode"] = attempt.exit_code
            job.latest_attempt["stoppedAt"] = int(time.time() * 1000)
            if attempt.exit_code == 0:
                break
            action = evaluate_on_exit(strategy.get("evaluateOnExit") or [], attempt)
            if action != "retry" or number == max_attempts:
                break
        assert attempt is not None
        job.exit_code = attempt.exit_code
        job.job_stopped_reason = attempt.status_reason
        job._mark_stopped(success=attempt.exit_code == 0)
        record.status = str(getattr(job.status, "value", job.status))

    def _cancel_runnable(self, job: Any, record: BatchJobRecord) -> None:
        """Gap 30: the job waits RUNNABLE (virtually) until its queue's RUNNABLE action cancels it."""
        [action] = [a for a in QUEUE_TIME_LIMIT_ACTIONS[job.job_queue.arn] if a.get("state") == "RUNNABLE"]
        record.runnable_s = float(action["maxTimeSeconds"])
        job.job_stopped_reason = action["reason"]
        job._mark_stopped(success=False)
        record.status = str(getattr(job.status, "value", job.status))

    def _start_service_job(self, job: Any, record: BatchJobRecord, command: list[str]) -> None:
        """Gap 9: the job runs in its own thread; moto reports it RUNNING until it is marked stopped."""
        runner = self.service_job_runner
        assert runner is not None
        job.job_started_at = datetime.datetime.now()
        job._start_attempt()
        env = self._job_environment(job)
        record.status = "RUNNING"

        def run() -> None:
            exit_code: int | None
            reason = "Essential container in task exited"
            try:
                exit_code = runner(command, env, job.job_id)
            except BaseException as exc:  # a killed worker: its host went away, as a Spot reclaim
                exit_code, reason = None, f"{HOST_RECLAIM_REASON} ({type(exc).__name__})"
            record.attempts.append(BatchAttempt(exit_code=exit_code, status_reason=reason))
            job.latest_attempt["statusReason"] = reason
            if exit_code is not None:
                job.latest_attempt["container"]["exitCode"] = exit_code
            job.exit_code = exit_code
            job.job_stopped_reason = reason
            job._mark_stopped(success=exit_code == 0)
            record.status = str(getattr(job.status, "value", job.status))

        thread = threading.Thread(target=run, name=f"batch-{job.job_name}", daemon=True)
        self.service_threads.append(thread)
        thread.start()

    def _run_attempt(self, command: list[str], env: dict[str, str]) -> BatchAttempt:
        if self._reclaims_left > 0:
            self._reclaims_left -= 1
            return BatchAttempt(exit_code=None, status_reason=HOST_RECLAIM_REASON)
        with _COMPUTE_LOCK, _environment(env), ANTLR.active("venv"):
            try:
                exit_code = self.job_runner(command, env)
            except Exception:  # an uncaught exception ends a container's python process with exit 1
                traceback.print_exc()
                exit_code = 1
        reason = "Essential container in task exited"
        return BatchAttempt(exit_code=exit_code, status_reason=reason)

    def _job_environment(self, job: Any) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in job.job_definition.container_properties.get("environment") or []:
            env[item["name"]] = item["value"]
        for item in job.container_overrides.get("environment") or []:
            env[item["name"]] = item["value"]
        env.update(self.job_env_overrides)
        return env


def evaluate_on_exit(rules: list[dict[str, Any]], attempt: BatchAttempt) -> str:
    """AWS Batch semantics: the first rule whose given conditions all match decides; none -> retry."""
    for rule in rules:
        conditions = []
        if "onStatusReason" in rule:
            conditions.append(_glob(rule["onStatusReason"], attempt.status_reason))
        if "onExitCode" in rule:
            code = "" if attempt.exit_code is None else str(attempt.exit_code)
            conditions.append(attempt.exit_code is not None and _glob(rule["onExitCode"], code))
        if "onReason" in rule:
            conditions.append(False)  # the bridge never produces a container reason
        if conditions and all(conditions):
            return str(rule["action"]).lower()
    return "retry"


class TooManyRequests(JsonRESTError):
    """What Lambda answers an Invoke over the function's concurrency (gap 29)."""

    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")


def _glob(pattern: str, value: str) -> bool:
    """Batch patterns may end with one ``*``; otherwise they match exactly."""
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda context object that Powertools and our handlers read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _import_handler(handler: str) -> Callable[[dict[str, Any], Any], Any]:
    module_name, _, attr = handler.rpartition(".")
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
    return getattr(importlib.import_module(module_name), attr)


class _SnapshotItems(ItemsView):  # type: ignore[type-arg]
    """``os.environ.items()`` over one copy of the environment's dict (gap 15)."""

    def __init__(self, environ: Any) -> None:
        data = dict(environ._data)  # one C-level copy: atomic with respect to other threads' swaps
        super().__init__({environ.decodekey(k): environ.decodevalue(v) for k, v in data.items()})


def _environ_items(self: Any) -> _SnapshotItems:
    return _SnapshotItems(self)


def _environ_copy(self: Any) -> dict[str, str]:
    return dict(_SnapshotItems(self))


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """A function's environment for one in-process invocation.

    Keys the invocation added are left in place afterwards (their values are the stack's resource
    names, the same in every function that declares them): removing one raced a thread outside the
    compute lock copying ``os.environ`` (botocore, a pool worker's settings), which then failed with
    ``KeyError`` on the vanished key (seen as 1-2 internal failures in 200 concurrent uploads).
    ``bridged`` removes them when its block ends (the stack's threads are stopped by then), so the next
    test (a gpu_job one reading BATCHED_MAX_S, say) sees the environment it started with."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v


class _AntlrRuntimes:
    """Two ANTLR runtimes under the one module name ``antlr4`` (gap 4), switched via ``sys.modules``.

    ``"moto"`` is the 4.13 runtime from ``build/antlr4-4.13`` that moto's parser is bound to;
    ``"venv"`` is the installed 4.9 runtime that NeMo's omegaconf uses. If the venv runtime was
    already imported (NeMo loaded earlier in this process), that very set of modules is reused so
    omegaconf keeps seeing the classes it was bound to.
    """

    def __init__(self) -> None:
        self._sets: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _take() -> dict[str, Any]:
        return {
            name: sys.modules.pop(name)
            for name in list(sys.modules)
            if name == "antlr4" or name.startswith("antlr4.")
        }

    def _load(self, which: str) -> None:
        saved = self._take()
        if which == "moto" and saved and "venv" not in self._sets:
            self._sets["venv"] = saved
        if which == "moto":
            sys.path.insert(0, str(ANTLR_413_DIR))
        try:
            import antlr4  # noqa: F401  (loaded for its side effect on sys.modules)

            if which == "moto":
                self._import_moto_parser()
        finally:
            if which == "moto":
                sys.path.remove(str(ANTLR_413_DIR))
            self._sets[which] = self._take()
            sys.modules.update(saved)

    @staticmethod
    def _import_moto_parser() -> None:
        """Bind every moto ASL parser module to the 4.13 runtime while it is the one loaded."""
        import pkgutil

        import moto.stepfunctions.parser as parser_pkg

        for info in pkgutil.walk_packages(parser_pkg.__path__, parser_pkg.__name__ + "."):
            try:
                importlib.import_module(info.name)
            except ImportError:
                continue  # a few ported LocalStack modules are dead code in moto and do not import

    @contextlib.contextmanager
    def active(self, which: str) -> Iterator[None]:
        if which not in self._sets:
            if which == "moto" and not (ANTLR_413_DIR / "antlr4").is_dir():
                raise RuntimeError(
                    f"{ANTLR_413_DIR} is missing: run `make setup` (it installs the ANTLR 4.13"
                    " runtime that moto's Step Functions parser needs)"
                )
            self._load(which)
        previous = self._take()
        sys.modules.update(self._sets[which])
        try:
            yield
        finally:
            self._take()
            sys.modules.update(previous)

    def leave_venv_runtime_loaded(self) -> None:
        """After the bridge: the venv runtime (NeMo's) is the one ``import antlr4`` finds again."""
        if "venv" in self._sets:
            self._take()
            sys.modules.update(self._sets["venv"])


ANTLR = _AntlrRuntimes()


@contextlib.contextmanager
def bridged(job_runner: JobRunner, job_env_overrides: dict[str, str] | None = None) -> Iterator[Bridge]:
    """Install the three bridges for the duration of the block (inside an active ``mock_aws``)."""
    if moto.__version__ != EXPECTED_MOTO_VERSION:
        raise RuntimeError(
            f"local_emulator.bridges patches moto {EXPECTED_MOTO_VERSION} internals;"
            f" found {moto.__version__}."
            " Re-check each gap in local_emulator/README.md before changing the pin."
        )
    antlr_413 = ANTLR.active("moto")  # before anything imports moto's ASL parser
    antlr_413.__enter__()
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.batch_simple.models import BatchSimpleBackend
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_batch,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    StateTaskServiceBatch = state_task_service_batch.StateTaskServiceBatch

    bridge = Bridge(job_runner, job_env_overrides)
    original_parse = AmazonStateLanguageParser.parse

    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException

    from local_emulator.asl_rules import definition_errors
    from local_emulator.distributed_map import carry_writer_config

    def parse_under_lock(definition: str) -> Any:
        errors = definition_errors(definition)  # what CreateStateMachine refuses and moto does not
        if errors:
            raise ASLParserException(errors=errors)
        with _COMPUTE_LOCK:  # never while a job has swapped in the venv's ANTLR runtime (gap 4)
            return original_parse(carry_writer_config(definition))

    normalise_parameters, normalise_response = botocore_normalisers("batch")

    def lambda_invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        return bridge.invoke_lambda(self, function_name, qualifier, body, response_headers)

    def mark_job_as_finished(self: Any, include_start_attempt: bool, job: Any) -> None:
        bridge.run_batch_job(self.backend, job)

    original_lambda_error = StateTaskLambda._from_error

    def lambda_service_error(self: Any, env: Any, ex: Exception) -> Any:
        """Gap 29: a ClientError of the Invoke call is ``Lambda.<code>``, as on AWS."""
        from botocore.exceptions import ClientError
        from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
            CustomErrorName,
        )

        failure = original_lambda_error(self, env, ex)
        if isinstance(ex, ClientError):
            name = f"Lambda.{ex.response['Error']['Code']}"
            failure.error_name = CustomErrorName(name)
            failure.event_details["lambdaFunctionFailedEventDetails"]["error"] = name
        return failure

    from local_emulator.callbacks import callback_patches
    from local_emulator.distributed_map import distributed_map_patches
    from local_emulator.s3_notifications import s3_notification_patches

    patches = [
        *callback_patches(),
        *distributed_map_patches(),
        *s3_notification_patches(),
        (AmazonStateLanguageParser, "parse", staticmethod(parse_under_lock)),
        (StateTaskServiceBatch, "_normalise_parameters", normalise_parameters),
        (StateTaskServiceBatch, "_normalise_response", normalise_response),
        (LambdaSimpleBackend, "invoke", lambda_invoke),
        (StateTaskLambda, "_from_error", lambda_service_error),
        (BatchSimpleBackend, "_mark_job_as_finished", mark_job_as_finished),
        (type(os.environ), "items", _environ_items),
        (type(os.environ), "copy", _environ_copy),
    ]
    originals = [(cls, name, cls.__dict__.get(name)) for cls, name, _ in patches]
    environment = dict(os.environ)  # what the invocations' environments leave behind goes at the end
    for cls, name, new in patches:
        setattr(cls, name, new)
    try:
        yield bridge
    finally:
        for key in set(os.environ) - set(environment):
            os.environ.pop(key, None)
        os.environ.update(environment)
        antlr_413.__exit__(None, None, None)
        ANTLR.leave_venv_runtime_loaded()
        for cls, name, original in originals:
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)
