"""`make serve`: the real `aws` CLI, over HTTP, starts and inspects an execution of the local stack.

Given the local stack served by ``python -m local_emulator.serve`` on a free port,
when ``aws s3 cp`` uploads a clip to the input bucket,
then ``aws stepfunctions list-executions`` shows an execution named after the file that succeeds,
``describe-execution`` and ``get-execution-history`` read it, and ``parakeet --local status`` reports
the key TRANSCRIBED.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_emulator.stack import RANDOM_MODEL
from local_emulator.template import REPO_ROOT

AWS = REPO_ROOT / ".venv-awscli" / "bin" / "aws"
PARAKEET = Path(sys.executable).parent / "parakeet"
START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not AWS.exists():
        pytest.fail(f"{AWS} is missing: scripts/setup.sh installs the aws CLI")
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local_emulator.serve", "--port", str(port), "--model", str(RANDOM_MODEL)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "local stack serving at" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield {"endpoint": endpoint, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def aws(served: dict[str, Any], *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("AWS_PROFILE", None)
    done = subprocess.run(
        [str(AWS), "--endpoint-url", served["endpoint"], "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.lstrip().startswith(("{", "[")) else done.stdout


def test_the_aws_cli_uploads_and_follows_an_execution_over_http(
    served: dict[str, Any], clips: dict[str, Path]
) -> None:
    # Given the stack's names, as CloudFormation reports them
    [stack] = aws(served, "cloudformation", "describe-stacks", "--stack-name", "parakeet-local")["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    bucket, machine = outputs["InputBucketName"], outputs["StateMachineArn"]

    # When the CLI uploads a clip
    aws(served, "s3", "cp", str(clips["short"]), f"s3://{bucket}/served/talk one.wav")

    # Then an execution named after the file appears and succeeds
    deadline, executions = time.monotonic() + 300, []
    while time.monotonic() < deadline:
        listed = aws(served, "stepfunctions", "list-executions", "--state-machine-arn", machine)
        executions = listed["executions"]
        if executions and executions[0]["status"] != "RUNNING":
            break
        time.sleep(2)
    assert [e["name"][:17] for e in executions] == ["served_talk-one-w"], executions
    arn = executions[0]["executionArn"]
    described = aws(served, "stepfunctions", "describe-execution", "--execution-arn", arn)
    assert described["status"] == "SUCCEEDED", (described, served["log"].read_text()[-3000:])
    history = aws(served, "stepfunctions", "get-execution-history", "--execution-arn", arn)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[:3] == ["Claim", "IsClaimed", "Probe"] and "Index" in entered

    # And the parakeet CLI reads the same stack
    status = subprocess.run(
        [
            str(PARAKEET),
            "--local",
            "--endpoint-url",
            served["endpoint"],
            "status",
            "served/talk one.wav",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert "TRANSCRIBED" in status.stdout
