"""`python -m gpu_job pool`: run one pool worker (the pool job definition's command).

Reads POOL_QUEUE_URL, AWS_BATCH_JOB_ID and the pool settings (pipeline.settings) from the
environment, loads the model once, serves the queue until idle, prints its report as one JSON line.
Exit 0 when it stopped (idle, or SIGTERM after the batch in hand); 70 when the model could not be loaded.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping

from pipeline.outcomes import GPU_JOB_EXIT_INTERNAL, GPU_JOB_EXIT_OK


def _parser() -> argparse.ArgumentParser:
    from gpu_job.config import default_device, default_model

    parser = argparse.ArgumentParser(prog="python -m gpu_job pool", description="Serve the pool queue.")
    parser.add_argument("--queue-url", default=None, help="SQS queue URL (default: POOL_QUEUE_URL)")
    parser.add_argument("--model", default=default_model(), help="pretrained name or path to a .nemo file")
    parser.add_argument("--device", default=default_device(), help="cuda or cpu (default: cuda if available)")
    return parser


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[2:] if argv is None else argv))
    env = os.environ if env is None else env
    logging.getLogger("nemo_logger").setLevel(logging.WARNING)
    import boto3
    from pipeline.settings import Settings

    from gpu_job import api
    from gpu_job.pool.worker import PoolWorker, WorkerConfig

    config = WorkerConfig.from_env(env, queue_url=args.queue_url)
    try:
        started = time.perf_counter()
        model = api.load_model(args.model, args.device)
        load_s = time.perf_counter() - started
    except Exception:
        traceback.print_exc()
        return GPU_JOB_EXIT_INTERNAL
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # finish the batch in hand, then exit
    worker = PoolWorker(
        config,
        model,
        boto3.client("sqs"),
        boto3.client("stepfunctions"),
        limits=Settings.from_env(env),
        model_load_s=load_s,
        stop=stop,
    )
    report = worker.run()
    print(report.as_json(), flush=True)
    return GPU_JOB_EXIT_OK
