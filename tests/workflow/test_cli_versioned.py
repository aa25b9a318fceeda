"""`parakeet upload --wait` on a versioned input bucket: each PUT is its own version, so the execution's
name is known from the PUT's own response (pipeline.naming hashes the version), and identical
bytes uploaded to one key within a second still get two executions, each reported by its own upload."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack
from local_emulator.template import REGION
from parakeet_cli import exits
from parakeet_cli.app import CliState, app
from parakeet_cli.connect import publish_local_stack
from tests.workflow.conftest import WORKFLOW_PARAMETERS


def moto_clients(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


@pytest.fixture(scope="module")
def versioned_stack() -> Iterator[LocalStack]:
    with (
        tempfile.TemporaryFile("w+") as job_log,
        local_stack(
            parameter_overrides={**WORKFLOW_PARAMETERS, "EnableInputVersioning": "true"},
            model=str(RANDOM_MODEL),
            job_log=job_log,
        ) as local,
    ):
        publish_local_stack(local.deployment)
        yield local


def test_identical_uploads_to_one_key_are_each_followed_by_their_own_versions_execution(
    versioned_stack: LocalStack, clips: dict[str, Path]
) -> None:
    # When the same file is uploaded twice to one key of a versioned bucket in one command
    result = CliRunner().invoke(
        app,
        [
            "--local",
            "upload",
            str(clips["short"]),
            str(clips["short"]),
            "--prefix",
            "versioned",
            "--wait",
            "--timeout",
            "300",
            "--json",
        ],
        obj=CliState(client_factory=moto_clients),
    )
    document = json.loads(result.stdout)

    # Then each upload names the version its PUT created and the execution named after that version
    first, second = document["uploads"]
    assert first["version_id"] and second["version_id"] and first["version_id"] != second["version_id"]
    versions = boto3.client("s3", region_name=REGION).list_object_versions(
        Bucket=versioned_stack.deployment.input_bucket, Prefix="versioned/short.wav"
    )["Versions"]
    assert {v["VersionId"] for v in versions} == {first["version_id"], second["version_id"]}
    assert first["execution_arn"] != second["execution_arn"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for item in (first, second):
        assert item["execution_name"].startswith(item["execution_name_prefix"])
        started = json.loads(sfn.describe_execution(executionArn=item["execution_arn"])["input"])
        assert started["detail"]["object"]["version-id"] == item["version_id"]
        assert item["execution_status"] == "SUCCEEDED"
    # And both versions' bytes end transcribed
    assert result.exit_code == exits.OK
    assert first["status"] == second["status"] == "TRANSCRIBED"
