"""What the ingress costs per object: the starter's duration, its log bytes and its requests, measured.

Runs StartExecutionFunction's handler (functions/start_execution/app.py) in this process against moto
(StartExecution answered in-process, the workflow not run), warm, for three kinds of SQS batches:
one ignored object (IgnoreKeySuffixes), one started upload, and ten started uploads. It reports the
handler's wall time (median and p95 over the runs), the JSON log bytes it writes (CloudWatch Logs
ingests them) and the cold import time of the handler module (Lambda's INIT phase, measured in a fresh
interpreter). docs/INGRESS.md turns these into us-east-1 list prices.

Caveat: on Lambda, StartExecution is a network call (tens of ms) where moto answers in microseconds;
the ignored path makes no call at all, so its figure transfers as measured.

    python benchmarks/ingress_cost.py [--runs 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "functions"), str(REPO)]
REGION = "us-east-1"


def cold_import_s() -> float:
    code = (
        "import time; t = time.perf_counter(); import start_execution.app  # noqa\n"
        "print(time.perf_counter() - t)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "functions"), "AWS_DEFAULT_REGION": REGION}
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(3)
    ]
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "IGNORE_KEY_SUFFIXES": ".txt",
        }
    )
    import boto3
    from moto import mock_aws

    from local_emulator.ingress import sqs_event
    from local_emulator.runner import object_created_event

    results: dict[str, Any] = {"runs": args.runs, "cold_import_s": cold_import_s()}
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name="transcribe",
            roleArn=role,
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        )["stateMachineArn"]
        os.environ["STATE_MACHINE_ARN"] = arn
        from start_execution.app import handler
        from test_common_support import FakeLambdaContext  # tests/unit is not a package

        counter = iter(range(10**9))

        def batch(kind: str) -> list[str]:
            if kind == "ignored":
                return [json.dumps(object_created_event("in", "notes/readme.txt", 9, "e"))]
            size = 10 if kind == "started x10" else 1
            return [
                json.dumps(
                    object_created_event("in", f"calls/c{next(counter)}.wav", 1000, f"{next(counter):032x}")
                )
                for _ in range(size)
            ]

        for kind in ("ignored", "started", "started x10"):
            durations, log_bytes = [], []
            for run in range(args.runs + 5):
                event = sqs_event(batch(kind))
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    started = time.perf_counter()
                    response = handler(event, FakeLambdaContext(memory_limit_in_mb=128))
                    elapsed = time.perf_counter() - started
                assert response == {"batchItemFailures": []}, response
                if run >= 5:  # warm runs only
                    durations.append(elapsed * 1000)
                    log_bytes.append(len(out.getvalue().encode()))
            durations.sort()
            results[kind] = {
                "median_ms": statistics.median(durations),
                "p95_ms": durations[int(0.95 * (len(durations) - 1))],
                "log_bytes": statistics.median(log_bytes),
            }
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "tests" / "unit"))
    sys.exit(main())
