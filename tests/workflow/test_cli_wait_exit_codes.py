"""Every `parakeet` command that waits (`upload --wait`, `retry --wait`, `backfill`) on an item that ends
FAILED: it exits with the failed-items code (parakeet_cli.exits.FAILED_ITEMS, docs/CLI.md) and its one
JSON document says which item failed and why.

The stack is the real template + ASL in moto's in-process AWS (local_emulator), resolved by ``--local``
from its published outputs; its ingress delivers each upload's event to the state machine, as
EventBridge would. The corrupt clip (tests/workflow/conftest.py) is bytes that are not media: Probe
rejects it, so its execution ends FAILED with a bad_input row.

The stack's Lambda handlers run in this process and log while the CLI waits: the CLI sends that to
stderr, so stdout holds the one document (tests/unit/test_cli_output.py).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from local_emulator import runner
from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack
from local_emulator.template import REGION
from parakeet_cli import exits
from parakeet_cli.app import CliState, app
from parakeet_cli.connect import publish_local_stack
from tests.workflow.conftest import WORKFLOW_PARAMETERS


def _clients(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def parakeet_json(*args: str) -> tuple[int, dict[str, Any]]:
    """`parakeet --local ... --json`: the exit code and the one JSON document on stdout."""
    result = CliRunner().invoke(app, ["--local", *args, "--json"], obj=CliState(client_factory=_clients))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(scope="class")
def waited_stack() -> Iterator[LocalStack]:
    """One stack with its ingress for the upload and retry specifications (class scope: it is gone
    before the backfill's stack, without an ingress, is deployed into the same moto account)."""
    # The in-process Batch job prints to stdout, which is the CLI's (captured) stdout while it waits:
    # its console output goes to a log instead, as awslogs would take it (as in test_cli_stack.py).
    with (
        tempfile.TemporaryFile("w+") as job_log,
        local_stack(
            parameter_overrides=WORKFLOW_PARAMETERS, model=str(RANDOM_MODEL), job_log=job_log
        ) as local,
    ):
        publish_local_stack(local.deployment)
        yield local


class TestUploadAndRetryWait:
    """`upload --wait` and `retry --wait` on one stack with an ingress."""

    def test_upload_wait_exits_with_failed_items_when_the_upload_ends_failed(
        self, waited_stack: LocalStack, clips: dict[str, Path]
    ) -> None:
        # When a clip that is not media is uploaded and waited for
        code, document = parakeet_json(
            "upload", str(clips["corrupt"]), "--prefix", "waited-bad", "--wait", "--timeout", "300"
        )

        # Then the command says some items failed
        assert code == exits.FAILED_ITEMS
        # And its document names the upload, its FAILED outcome and the typed reason from the catalog
        [item] = document["uploads"]
        assert item["key"] == "waited-bad/corrupt.mp3"
        assert item["status"] == "FAILED"
        assert (item["row"]["status"], item["row"]["reason_class"]) == ("FAILED", "bad_input")
        assert item["row"]["etag"] == item["etag"]

    def test_upload_wait_of_a_good_and_a_bad_file_exits_with_failed_items_naming_the_bad_one(
        self, waited_stack: LocalStack, clips: dict[str, Path], tmp_path: Path
    ) -> None:
        # Given a folder with a speech clip and a clip that is not media
        folder = tmp_path / "mixed"
        folder.mkdir()
        (folder / "good.wav").write_bytes(clips["short"].read_bytes())
        (folder / "bad.mp3").write_bytes(clips["corrupt"].read_bytes())

        # When the folder is uploaded and waited for
        code, document = parakeet_json(
            "upload", str(folder), "--prefix", "waited-mixed", "--wait", "--timeout", "300"
        )

        # Then one failed item is enough for the failed-items code, and the document says which one
        assert code == exits.FAILED_ITEMS
        statuses = {item["key"]: item["status"] for item in document["uploads"]}
        assert statuses == {"waited-mixed/good.wav": "TRANSCRIBED", "waited-mixed/bad.mp3": "FAILED"}

    def test_retry_wait_exits_with_failed_items_when_the_retry_ends_failed(
        self, waited_stack: LocalStack, clips: dict[str, Path]
    ) -> None:
        # Given an upload whose Batch job lost every Spot instance (an internal failure, so it is retried)
        waited_stack.bridge.simulate_spot_reclaims(3)
        _, report = runner.upload_and_run(waited_stack.deployment, str(clips["short"]), "retried/unlucky.wav")
        assert report is not None and report.status == "FAILED"

        # When it is retried and waited for, and the retry loses its instances too
        waited_stack.bridge.simulate_spot_reclaims(3)
        code, document = parakeet_json("retry", "retried/unlucky.wav", "--wait", "--timeout", "300")

        # Then the retry ran and ended FAILED, and the command says some items failed
        assert code == exits.FAILED_ITEMS
        [retry] = document["retries"]
        assert retry["retried"] is True
        assert (retry["execution_status"], retry["status"]) == ("FAILED", "FAILED")
        assert (document["started"], document["skipped"]) == (1, 0)

    def test_retry_wait_of_bad_input_on_purpose_exits_with_failed_items(
        self, waited_stack: LocalStack, clips: dict[str, Path]
    ) -> None:
        # Given an upload that failed as bad input
        _, report = runner.upload_and_run(
            waited_stack.deployment, str(clips["corrupt"]), "retried/broken.mp3"
        )
        assert report is not None and report.status == "FAILED"

        # When it is retried on purpose and waited for
        code, document = parakeet_json(
            "retry", "retried/broken.mp3", "--include-bad-input", "--wait", "--timeout", "300"
        )

        # Then the same bytes failed the same way, and the command says so
        assert code == exits.FAILED_ITEMS
        [retry] = document["retries"]
        assert (retry["retried"], retry["execution_status"], retry["status"]) == (True, "FAILED", "FAILED")


def test_backfill_exits_with_failed_items_when_an_item_ends_failed(clips: dict[str, Path]) -> None:
    # Given a stack without its ingress (only the backfill starts executions) and a prefix holding a
    # speech clip and a clip that is not media
    with (
        tempfile.TemporaryFile("w+") as job_log,
        local_stack(
            parameter_overrides=WORKFLOW_PARAMETERS,
            model=str(RANDOM_MODEL),
            job_log=job_log,
            ingress=False,
            pool_schedule_s=None,
        ) as stack,
    ):
        publish_local_stack(stack.deployment)
        s3, bucket = boto3.client("s3", region_name=REGION), stack.deployment.input_bucket
        s3.put_object(Bucket=bucket, Key="old/good.wav", Body=clips["short"].read_bytes())
        s3.put_object(Bucket=bucket, Key="old/broken.mp3", Body=clips["corrupt"].read_bytes())

        # When the prefix is backfilled (the command follows it to its end by default)
        code, document = parakeet_json("backfill", f"s3://{bucket}/old/", "--max-concurrency", "1")

        # Then the backfill itself succeeded, but one of its files failed: the failed-items code
        assert code == exits.FAILED_ITEMS
        assert document["status"] == "SUCCEEDED"
        summary = document["summary"]
        counts = (summary["total"], summary["started"], summary["transcribed"], summary["failed"])
        assert counts == (2, 2, 1, 1)
        # And the catalog holds the typed reason of the failed file
        code, status = parakeet_json("status", "old/broken.mp3")
        assert code == exits.OK
        assert (status["latest"]["status"], status["latest"]["reason_class"]) == ("FAILED", "bad_input")
