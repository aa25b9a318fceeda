"""One local stack: moto's in-process AWS + the bridges + the template's resources, ready to use.

Shared by ``python -m local_emulator.demo`` and the workflow tests so both exercise the same setup.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from moto import mock_aws

from local_emulator.archives import ColdStorage
from local_emulator.aws import LocalDeployment, deploy
from local_emulator.bridges import Bridge, bridged
from local_emulator.ingress import LocalIngress
from local_emulator.pool import LocalPool, ScheduleTicker
from local_emulator.template import REGION, REPO_ROOT

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "batch": {"use_docker": False},
}
RANDOM_MODEL = REPO_ROOT / "build" / "models" / "tiny_random_tdt.nemo"
SPEECH_MODEL = REPO_ROOT / "tests" / "fixtures" / "models" / "tiny_tdt_speech.nemo"
# The diarizer the repo trains (scripts/train_tiny_diarizer.py); the real model gets Sortformer's default.
TINY_DIARIZER = REPO_ROOT / "tests" / "fixtures" / "models" / "tiny_diarizer.npz"
PARAKEET = "nvidia/parakeet-tdt-0.6b-v3"

# Process-wide settings for running Lambda handlers outside Lambda: no X-Ray daemon here, and
# no account to send metrics to.
LOCAL_PROCESS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "HF_HUB_OFFLINE": "1",
}


@dataclass
class LocalStack:
    deployment: LocalDeployment
    bridge: Bridge
    model: str
    pool: LocalPool
    ingress: LocalIngress | None = None
    cold: ColdStorage | None = None


def run_gpu_job_in_process(command: list[str], env: dict[str, str]) -> int:
    """The Batch container's entry point, called like ``python -m gpu_job <command>`` would be."""
    from gpu_job.cli import main

    return main(list(command))


def _job_runner(job_log: TextIO | None) -> Callable[[list[str], dict[str, str]], int]:
    """Optionally send the job's console output (NeMo is chatty) to a log, like awslogs would."""
    if job_log is None:
        return run_gpu_job_in_process

    def run(command: list[str], env: dict[str, str]) -> int:
        with contextlib.redirect_stdout(job_log), contextlib.redirect_stderr(job_log):
            return run_gpu_job_in_process(command, env)

    return run


def parakeet_available() -> bool:
    """Whether the real weights are in the local Hugging Face cache (nothing is downloaded)."""
    hub = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    return any(hub.glob("models--nvidia--parakeet-tdt-0.6b-v3/snapshots/*/*.nemo"))


def choose_model(prefer_speech: bool) -> tuple[str, str]:
    """(model, why): the real weights if cached, else the trained tiny model, else the random one."""
    if prefer_speech and parakeet_available():
        return PARAKEET, "real Parakeet-TDT-0.6B-v3 weights found in the local Hugging Face cache"
    if prefer_speech and SPEECH_MODEL.exists():
        why = (
            "real Parakeet weights not available locally: using the tiny FastConformer-TDT"
            f" trained on espeak-ng speech ({SPEECH_MODEL.relative_to(REPO_ROOT)})"
        )
        return str(SPEECH_MODEL), why
    return str(RANDOM_MODEL), (
        "using the random-weight tiny FastConformer-TDT"
        f" ({RANDOM_MODEL.relative_to(REPO_ROOT)}): the pipeline runs end to end,"
        " the words are noise"
    )


@contextlib.contextmanager
def local_stack(
    parameter_overrides: dict[str, str] | None = None,
    model: str | None = None,
    quiet: bool = True,
    job_log: TextIO | None = None,
    pool_schedule_s: float | None = 60.0,
    job_runner: Callable[[list[str], dict[str, str]], int] | None = None,
    ingress: bool = True,
    ingress_retry_after_s: float | None = 1.0,
) -> Iterator[LocalStack]:
    """moto + bridges + the deployed template, torn down on exit.

    ``pool_schedule_s``: how often the scaler's schedule fires here (the template says every minute;
    tests compress it; None: never). Pool workers still running at the end are stopped and joined
    before moto goes away, so none of them ever talks to a real endpoint. ``job_runner`` replaces the
    in-process per-file job (benchmarks/pool_burst.py runs each in a fresh process). ``ingress``: run the
    deployed ingress in the background (local_emulator.ingress): every upload to the input bucket goes
    S3 -> rule -> UploadQueue -> StartExecutionFunction -> its named execution; a record the starter
    failed is retried after ``ingress_retry_after_s`` (None: the queue's own visibility timeout)."""
    model = model or str(RANDOM_MODEL)
    # Who spoke: the tiny diarizer beside the test models, the production default beside Parakeet.
    diarizer = {} if model == PARAKEET else {"GPU_JOB_DIARIZER": str(TINY_DIARIZER)}
    process_env = {**LOCAL_PROCESS_ENV, **diarizer}
    if quiet:
        for name in ("moto", "werkzeug", "botocore", "nemo_logger", "nemo"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    saved = {k: os.environ.get(k) for k in process_env}
    os.environ.update(process_env)
    try:
        with (
            mock_aws(config=MOTO_CONFIG),
            bridged(
                job_runner=job_runner or _job_runner(job_log),
                job_env_overrides={
                    "GPU_JOB_MODEL": model,
                    "GPU_JOB_DEVICE": "cpu",
                    "HF_HUB_OFFLINE": "1",
                    **diarizer,
                },
            ) as bridge,
        ):
            _reset_function_clients()
            pool = LocalPool()
            bridge.service_job_runner = pool.run_job
            deployment = deploy(parameter_overrides=parameter_overrides)
            ticker = None
            if pool_schedule_s is not None:
                ticker = ScheduleTicker(deployment.ref("ScalePoolFunction"), pool_schedule_s).start()
            uploads = (
                LocalIngress(deployment, bridge=bridge, retry_after_s=ingress_retry_after_s).start()
                if ingress
                else None
            )
            cold = ColdStorage().start()
            try:
                yield LocalStack(
                    deployment=deployment, bridge=bridge, model=model, pool=pool, ingress=uploads, cold=cold
                )
            finally:
                cold.stop()
                if uploads is not None:
                    uploads.stop()
                if ticker is not None:
                    ticker.stop()
                pool.stop.set()
                for thread in bridge.service_threads:
                    thread.join(timeout=60)
            _reset_function_clients()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _reset_function_clients() -> None:
    """Handlers cache boto3 clients per container; a new local stack is a new 'container'."""
    import sys

    functions_dir = str(REPO_ROOT / "functions")
    if functions_dir not in sys.path:
        sys.path.insert(0, functions_dir)
    from lambda_runtime.clients import reset_clients

    reset_clients()
