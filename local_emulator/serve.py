"""``make serve``: the local stack behind moto's HTTP server, so real clients drive it like AWS.

The same in-process stack as ``make demo`` (moto, the bridges, the template's resources, the local
ingress, pool workers, in-process Batch jobs) is put behind ``moto.server.ThreadedMotoServer`` in the
same process. The server answers from the very backends the pipeline uses, so an upload with
``aws --endpoint-url http://127.0.0.1:4566 s3 cp talk.mp3 s3://<input bucket>/`` raises the S3 event
the ingress bridge turns into a named execution, and ``aws stepfunctions list-executions`` /
``describe-execution`` / ``get-execution-history`` or ``parakeet --local status`` read the result.
The stack's outputs are published as the CloudFormation stack ``parakeet-local``
(parakeet_cli.connect.publish_local_stack): ``aws cloudformation describe-stacks`` shows the names.

Differences from AWS: one account (123456789012) and region (us-east-1); any credentials are accepted;
Lambda handlers and Batch jobs run one at a time in this process (local_emulator.bridges); nothing
is kept after the process exits.
"""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import argparse
import signal
import sys
import threading

from local_emulator.demo import DEMO_PARAMETERS
from local_emulator.stack import choose_model, local_stack
from local_emulator.template import REGION, REPO_ROOT

DEFAULT_PORT = 4566
JOB_LOG = REPO_ROOT / "out" / "serve" / "jobs.log"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    summary = __doc__.split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m local_emulator.serve", description=summary)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--model", help="a .nemo path or model name (default: the best available locally)")
    parser.add_argument(
        "--production-thresholds",
        action="store_true",
        help="keep the template's production defaults instead of the demo's lowered ones",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from moto.server import ThreadedMotoServer

    from parakeet_cli.connect import publish_local_stack

    model, why = (args.model, "given with --model") if args.model else choose_model(prefer_speech=True)
    JOB_LOG.parent.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    parameters = None if args.production_thresholds else DEMO_PARAMETERS
    with (
        JOB_LOG.open("w") as job_log,
        local_stack(
            parameter_overrides=parameters, model=model, job_log=job_log, pool_schedule_s=5.0
        ) as stack,
    ):
        outputs = publish_local_stack(stack.deployment)
        server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
        server.start()
        endpoint = f"http://{args.host}:{args.port}"
        print(_banner(endpoint, outputs, why), flush=True)
        try:
            stop.wait()
        finally:
            print("stopping the local stack", flush=True)
            server.stop()
    return 0


def _banner(endpoint: str, outputs: dict[str, str], why: str) -> str:
    aws = f"aws --endpoint-url {endpoint} --region {REGION}"
    return "\n".join(
        [
            f"local stack serving at {endpoint} (model: {why}; job logs: {JOB_LOG.relative_to(REPO_ROOT)})",
            *(f"  {name}: {value}" for name, value in sorted(outputs.items())),
            "try (any credentials work, e.g. AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x):",
            f"  {aws} s3 cp talk.mp3 s3://{outputs['InputBucketName']}/",
            f"  {aws} stepfunctions list-executions --state-machine-arn {outputs['StateMachineArn']}",
            f"  parakeet --local --endpoint-url {endpoint} status",
            "Ctrl-C stops it (nothing is kept).",
        ]
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
