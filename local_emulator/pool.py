"""The worker pool on this machine: pool workers as threads, the scaler's schedule as a ticker.

A pool worker job submitted by the scaler (through moto's Batch) runs here as a thread
(bridge gap 9) with the real `gpu_job.pool.worker.PoolWorker` against moto's SQS and Step
Functions. In-process compute is serialised with the Lambda and per-file job bridges
(``_COMPUTE_LOCK``) and runs NeMo against its ANTLR runtime (gap 4), so the worker's transcribe
call is wrapped here, not changed. Fault injection for the specifications: a worker can be
"killed" while it holds a given file (it vanishes without answering, as on a Spot reclaim).

The template's one-minute schedule (ScalePoolFunction's SafetyNet event) is played by
`ScheduleTicker`, at an interval the caller chooses (tests compress the minute to a second).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_emulator.bridges import _COMPUTE_LOCK, ANTLR
from local_emulator.template import REGION


def _local_worker_class() -> type:
    """PoolWorker whose per-file finish (output write, answer, delete) holds the compute lock.

    The Lambda and per-file job bridges swap ``os.environ`` (process-global) while they hold the lock;
    boto3 reads the environment when gpu_job's storage creates its S3 client for the write, and a read
    racing a swap failed with ``KeyError`` (seen 5 times in 200 files). Holding the lock there, as the
    transcribe call does, serialises it with the swaps. The worker's own logic is unchanged.
    """
    from gpu_job.pool.worker import PoolWorker

    class LocalPoolWorker(PoolWorker):
        def _finish(self, *args: Any) -> None:
            with _COMPUTE_LOCK:
                super()._finish(*args)

    return LocalPoolWorker


class WorkerKilled(BaseException):
    """Raised inside a worker's transcribe call: the worker stops dead (no answer, no delete)."""


@dataclass
class PoolFaults:
    """Kill the worker that is transcribing a file whose URI contains ``marker``, ``times`` times."""

    marker: str = ""
    times: int = 0
    kills: int = 0

    def kill_workers_on(self, marker: str, times: int) -> None:
        self.marker, self.times = marker, times

    def check(self, uris: Sequence[str]) -> None:
        if self.times > 0 and self.marker and any(self.marker in uri for uri in uris):
            self.times -= 1
            self.kills += 1
            raise WorkerKilled(f"worker killed while holding {self.marker}")


@dataclass
class LocalPool:
    """Runs pool jobs (bridge.service_job_runner) and remembers what each worker reported."""

    poll_s: int = 1
    faults: PoolFaults = field(default_factory=PoolFaults)
    reports: dict[str, Any] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run_job(self, command: list[str], env: dict[str, str], job_id: str) -> int:
        """What ``python -m gpu_job pool`` does (gpu_job.pool.cli), with this process's compute guard."""
        import dataclasses
        import time

        from pipeline.settings import Settings

        from gpu_job import api
        from gpu_job.pool.batch import transcribe_batch
        from gpu_job.pool.worker import WorkerConfig

        config = WorkerConfig.from_env({**env, "AWS_BATCH_JOB_ID": job_id})
        config = dataclasses.replace(config, poll_s=min(config.poll_s, self.poll_s))
        started = time.perf_counter()
        with _COMPUTE_LOCK, ANTLR.active("venv"):
            model = api.load_model(env["GPU_JOB_MODEL"], env.get("GPU_JOB_DEVICE") or None)
        load_s = time.perf_counter() - started

        def transcribe(requests: Sequence[Any], model: Any, limits: Settings | None) -> list[Any]:
            self.faults.check([r.source.uri for r in requests])
            with _COMPUTE_LOCK, ANTLR.active("venv"):
                return transcribe_batch(requests, model, limits)

        worker = _local_worker_class()(
            config,
            model,
            boto3.client("sqs", region_name=REGION),
            boto3.client("stepfunctions", region_name=REGION),
            transcribe=transcribe,
            limits=Settings.from_env(env),
            model_load_s=load_s,
            stop=self.stop,
        )
        self.reports[job_id] = worker.report
        worker.run()
        return 0


class ScheduleTicker:
    """Invokes the scaler like its EventBridge schedule would (``{"incoming": 0}``), every interval."""

    def __init__(self, function_name: str, interval_s: float) -> None:
        self._function_name, self._interval_s = function_name, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pool-schedule", daemon=True)
        self.ticks = 0

    def _run(self) -> None:
        client = boto3.client("lambda", region_name=REGION)
        while not self._stop.wait(self._interval_s):
            client.invoke(FunctionName=self._function_name, Payload=b'{"incoming": 0}')
            self.ticks += 1

    def start(self) -> ScheduleTicker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
