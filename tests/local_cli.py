"""`parakeet --local ...` in-process, for tests: the CLI against the local stack in this process's moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
from typer.testing import CliRunner

from local_emulator.template import REGION
from parakeet_cli.app import CliState, app


def moto_clients(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def parakeet(*args: str) -> tuple[int, Any]:
    """The exit code, and the parsed --json document when asked for, else the text; an exception that is not
    the CLI's own exit is raised (a bug, not an outcome)."""
    result = CliRunner().invoke(app, ["--local", *args], obj=CliState(client_factory=moto_clients))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout) if "--json" in args else result.stdout
