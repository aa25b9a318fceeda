"""Specification of the pipeline under load (issue 10, part 6): 200 uploads at once, in the deployed shape.

Good short clips (the worker pool path, one model load for all of them), bad input, zero-byte objects,
exact duplicate deliveries and overwrites of one key while its first upload is in flight, delivered
concurrently by ``local_emulator.runner.upload_many``. Every upload must end in exactly one terminal
catalog state, nothing lost, nothing hung, no upload's bytes transcribed twice. The figures are
printed; with ``WRITE_LOAD_RESULT=1`` they are also written to benchmarks/results/load_200.json (the
committed measurement), so an ordinary test run leaves the checkout as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local_emulator import runner
from local_emulator.bridges import _COMPUTE_LOCK, ANTLR
from local_emulator.runner import TERMINAL, Upload
from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack
from local_emulator.template import REPO_ROOT
from tests.workflow.conftest import WORKFLOW_PARAMETERS

REGION = "us-east-1"
RESULT = REPO_ROOT / "benchmarks" / "results" / "load_200.json"
# Short clips take the pool (one model load for the whole burst); generous heartbeats: a task waits
# in the pool queue behind up to 150 others, which is load, not a dead worker.
LOAD_PARAMETERS = {
    **WORKFLOW_PARAMETERS,
    "PoolMaxSeconds": "5",
    "MaxPoolWorkers": "2",
    "PoolFilesPerWorker": "200",
    "PoolBatchSize": "10",
    "PoolIdleExitSeconds": "5",
}
GOOD, BAD, EMPTY, OVERWRITTEN = 150, 20, 10, 10  # + 10 second uploads of the overwritten keys = 200


@pytest.fixture
def load_stack() -> Iterator[LocalStack]:
    from gpu_job import api

    with _COMPUTE_LOCK, ANTLR.active("venv"):
        api.load_model(str(RANDOM_MODEL), "cpu")  # NeMo's import is not what this load measures
    with local_stack(
        parameter_overrides=LOAD_PARAMETERS, model=str(RANDOM_MODEL), pool_schedule_s=1.0
    ) as local:
        yield local


@pytest.fixture(scope="module")
def other_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second short clip: the bytes that overwrite a key."""
    root = tmp_path_factory.mktemp("load")
    wav = root / "other.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), "Good morning. A newer upload."], check=True)
    return wav


def transcript_writes(stack: LocalStack, key: str) -> int:
    name = f"transcripts/{key}/transcript.json"
    pages = (
        boto3.client("s3", region_name=REGION)
        .get_paginator("list_object_versions")
        .paginate(Bucket=stack.deployment.output_bucket, Prefix=name)
    )
    return sum(1 for page in pages for v in page.get("Versions", []) if v["Key"] == name)


def test_200_concurrent_uploads_each_end_in_exactly_one_terminal_catalog_state(
    load_stack: LocalStack, clips: dict[str, Path], other_clip: Path
) -> None:
    stack = load_stack
    # Given 200 uploads: good clips (one in five delivered twice), bad input, zero-byte objects, and keys
    # uploaded twice with different bytes (the second overwrites the first while it is in flight)
    uploads = [
        Upload(f"load/good-{i:03d}.wav", clips["short"], redeliveries=1 if i % 5 == 0 else 0)
        for i in range(GOOD)
    ]
    uploads += [Upload(f"load/bad-{i:02d}.mp3", clips["corrupt"], redeliveries=i % 2) for i in range(BAD)]
    uploads += [Upload(f"load/empty-{i:02d}.wav", b"") for i in range(EMPTY)]
    for i in range(OVERWRITTEN):
        key = f"load/over-{i:02d}.wav"
        uploads += [Upload(key, clips["short"]), Upload(key, other_clip)]
    assert len(uploads) == 200
    redelivered = sum(u.redeliveries for u in uploads)

    # When they are uploaded at once
    started = time.monotonic()
    load = runner.upload_many(stack.deployment, uploads, timeout_s=600, workers=16)
    figures = {
        "uploads": len(uploads),
        "redeliveries": redelivered,
        **load.figures(),
        "catalog": dict(Counter(str(r.catalog_status) for r in load.uploads)),
        "test_wall_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(figures, indent=1))
    if os.environ.get("WRITE_LOAD_RESULT") == "1":
        RESULT.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")

    # Then nothing was lost, nothing hung, nothing dead-lettered; every execution is terminal
    assert (load.lost, load.hangs, load.dead_lettered, load.skipped) == (0, 0, 0, 0)
    assert all(r.status in TERMINAL for r in load.uploads)
    # And each distinct upload got one execution; every redelivery was refused by name
    assert load.distinct_executions == GOOD + BAD + EMPTY + 2 * OVERWRITTEN == load.executions_started
    assert load.duplicates_refused == redelivered and load.item_failures == 0
    # And no upload's bytes were transcribed twice: no duplicate GPU job, one transcript write per good key
    assert load.duplicate_gpu_jobs == 0
    for i in range(GOOD):
        assert transcript_writes(stack, f"load/good-{i:03d}.wav") == 1
    # And every upload has exactly one terminal catalog state, the one its input calls for
    s3 = boto3.client("s3", region_name=REGION)
    for report in load.uploads:
        if report.key.startswith("load/good-"):
            assert (report.status, report.catalog_status) == ("SUCCEEDED", "TRANSCRIBED"), report
        elif report.key.startswith("load/bad-"):
            assert (report.status, report.catalog_status) == ("FAILED", "FAILED"), report
        elif report.key.startswith("load/empty-"):
            assert (report.catalog_status, report.catalog_reason) == ("FAILED", "ZeroByteObject"), report
        else:
            # The upload the key holds now is transcribed; the other one was superseded (or, had it
            # finished before the overwrite landed, stays transcribed: its row holds its own words)
            current = s3.head_object(Bucket=stack.deployment.input_bucket, Key=report.key)["ETag"].strip('"')
            expected = {"TRANSCRIBED"} if report.etag == current else {"SUPERSEDED", "TRANSCRIBED"}
            assert report.status == "SUCCEEDED" and report.catalog_status in expected, report
    assert sum(1 for r in load.uploads if r.catalog_status == "SUPERSEDED") <= OVERWRITTEN
    assert load.max_running >= 2


# ---------------------------------------------------------------- issue 22: scaling is best effort
BURST = 100


def test_a_burst_with_every_scaling_call_of_the_workflow_throttled_transcribes_every_file(
    load_stack: LocalStack, clips: dict[str, Path]
) -> None:
    stack = load_stack
    # Given a scaler whose every call from the workflow is throttled (429, as when its concurrency is used up:
    # reserved concurrency 1, or a new account's quota of 10), while its one-minute schedule gets through
    scaler = stack.deployment.ref("ScalePoolFunction")
    stack.bridge.throttle_function(scaler, when=lambda event: event.get("incoming") == 1)

    # When 100 short uploads (the pool path) arrive at once
    uploads = [Upload(f"burst/clip-{i:03d}.wav", clips["short"]) for i in range(BURST)]
    load = runner.upload_many(stack.deployment, uploads, timeout_s=600, workers=16)
    print(json.dumps({"burst": BURST, "throttled": stack.bridge.throttled_invocations, **load.figures()}))

    # Then the workflow's scaling calls were all refused, and every file was still transcribed: the failure
    # routed on to the pool (PoolScalingSkipped), never to RecordFailure; the schedule started the workers
    assert stack.bridge.throttled_invocations >= BURST
    assert (load.lost, load.hangs, load.dead_lettered) == (0, 0, 0)
    assert Counter(r.catalog_status for r in load.uploads) == {"TRANSCRIBED": BURST}
    assert Counter(r.status for r in load.uploads) == {"SUCCEEDED": BURST}
    # And no internal failure was recorded
    table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
    assert not [row for row in table.scan()["Items"] if row.get("reason_class") == "internal"]
