"""Specification of the backfill (statemachine/backfill.asl.json, docs/BACKFILL.md) on the local stack.

One archive of 50 objects under a prefix: 12 speech clips (4 of them transcribed by a prior live run),
8 corrupt media files (bad input) and 30 non-media files with an ignored suffix. The stack runs without
its ingress, so only the backfill (and the "prior run", started as the live starter would) starts
per-file executions; the Batch bridge records every GPU job.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_emulator.runner import event_for_object, start_execution, wait_for
from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack, run_gpu_job_in_process
from local_emulator.template import REGION
from tests.workflow.conftest import WORKFLOW_PARAMETERS

PREFIX = "archive/"
AUDIO = [f"{PREFIX}calls/call-{i:02d}.wav" for i in range(12)]
PRIOR = AUDIO[:4]
BAD = [f"{PREFIX}broken/bad-{i:02d}.mp3" for i in range(8)]
NOTES = [f"{PREFIX}notes/note-{i:02d}.txt" for i in range(30)]
GPU_JOB_EXIT_INTERNAL = 70


class FlakyGpu:
    """The in-process gpu_job, except that files named in ``failing`` end as internal failures (exit 70)."""

    def __init__(self) -> None:
        self.failing: set[str] = set()

    def __call__(self, command: list[str], env: dict[str, str]) -> int:
        if any(key in " ".join(command) for key in self.failing):
            return GPU_JOB_EXIT_INTERNAL
        return run_gpu_job_in_process(command, env)


@pytest.fixture
def flaky() -> FlakyGpu:
    return FlakyGpu()


@pytest.fixture
def archive(clips: dict[str, Path], flaky: FlakyGpu) -> Iterator[LocalStack]:
    parameters = {**WORKFLOW_PARAMETERS, "IgnoreKeySuffixes": ".txt,.json", "BackfillMaxConcurrency": "4"}
    with local_stack(
        parameter_overrides=parameters,
        model=str(RANDOM_MODEL),
        ingress=False,
        pool_schedule_s=None,
        job_runner=flaky,
    ) as stack:
        s3 = boto3.client("s3", region_name=REGION)
        bucket = stack.deployment.input_bucket
        speech, corrupt = clips["short"].read_bytes(), clips["corrupt"].read_bytes()
        for i, key in enumerate(AUDIO):  # distinct bytes per key: a little trailing silence each
            s3.put_object(Bucket=bucket, Key=key, Body=speech + b"\0\0" * i)
        for key in BAD:
            s3.put_object(Bucket=bucket, Key=key, Body=corrupt)
        for key in NOTES:
            s3.put_object(Bucket=bucket, Key=key, Body=b"meeting notes")
        yield stack


def backfill(stack: LocalStack, **options: Any) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    run = {"bucket": stack.deployment.input_bucket, "prefix": PREFIX, **options}
    arn = sfn.start_execution(
        stateMachineArn=stack.deployment.backfill_state_machine_arn,
        name=f"backfill-{uuid.uuid4().hex[:12]}",
        input=json.dumps(run),
    )["executionArn"]
    deadline = time.monotonic() + 300
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "backfill did not finish"
        time.sleep(0.2)
    assert described["status"] == "SUCCEEDED", described
    summary = dict(json.loads(described["output"]))
    # The per-object results went to S3 (ResultWriter), one JSON line per object, under the static
    # prefix and the map run's id (AWS adds it: <Prefix>/<map run id>/)
    s3 = boto3.client("s3", region_name=REGION)
    [map_run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    run_id, bucket = map_run["mapRunArn"].rsplit(":", 1)[-1], stack.deployment.output_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"backfill-results/{run_id}/").get("Contents", [])
    [manifest_key] = [o["Key"] for o in listed if o["Key"].endswith("manifest.json")]
    files = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())["ResultFiles"]
    entries = sum(
        len(s3.get_object(Bucket=bucket, Key=f["Key"])["Body"].read().splitlines())
        for of_status in files.values()
        for f in of_status
    )
    assert entries == summary["total"]
    return summary


def jobs_by_key(stack: LocalStack) -> Counter[str]:
    """Succeeded GPU jobs per input key (a per-file job's command carries its request)."""
    found: Counter[str] = Counter()
    for job in stack.bridge.batch_jobs:
        if job.status == "SUCCEEDED":
            found.update(key for key in AUDIO if key in " ".join(job.command))
    return found


def executions_by_key(stack: LocalStack) -> Counter[str]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    names = [
        e["name"]
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=stack.deployment.state_machine_arn
        )
        for e in page["executions"]
    ]
    keys = AUDIO + BAD + NOTES
    # Names read <folders>_<file name>-<etag>-<hash>[-retryN] (pipeline.naming)
    return Counter(
        key for name in names for key in keys if "_" + key.rsplit("/", 1)[-1].replace(".", "-") + "-" in name
    )


def test_a_backfill_transcribes_each_missing_file_once_and_a_rerun_redoes_only_what_failed(
    archive: LocalStack, flaky: FlakyGpu
) -> None:
    bucket = archive.deployment.input_bucket
    # Given a prior live run transcribed 4 of the 12 clips
    for key in PRIOR:
        prior = start_execution(archive.deployment, event_for_object(bucket, key))
        assert wait_for(prior).status == "SUCCEEDED"
    assert jobs_by_key(archive) == Counter({key: 1 for key in PRIOR})

    # When a dry run counts the archive, then it starts nothing
    dry = backfill(archive, dry_run=True)
    assert (dry["total"], dry["would_start"], dry["started"]) == (50, 8 + 8, 0)
    assert dry["skipped"] == {"ignored_suffix": 30, "transcribed": 4}
    assert executions_by_key(archive) == Counter({key: 1 for key in PRIOR})

    # When the backfill runs while the GPU fails 3 of the files internally
    flaky.failing = set(AUDIO[4:7])
    first = backfill(archive)
    # Then every file without an answer was started once: 5 transcribed, 8 bad + 3 internal failed
    assert (first["started"], first["transcribed"], first["failed"]) == (16, 5, 11)
    assert first["skipped"] == {"ignored_suffix": 30, "transcribed": 4}
    # When the GPU is healthy again and the backfill is rerun
    flaky.failing = set()
    second = backfill(archive)
    # Then only the 3 internal failures are redone (bad input is not retried: same bytes, same answer)
    assert (second["started"], second["transcribed"], second["failed"]) == (3, 3, 0), second
    errors = [(i.function_name, i.error_type) for i in archive.bridge.lambda_invocations if i.error_type]
    assert second["skipped"] == {"bad_input": 8, "ignored_suffix": 30, "transcribed": 9}, (second, errors)

    # And no file was ever transcribed twice; the ignored ones never had an execution
    assert jobs_by_key(archive) == Counter({key: 1 for key in AUDIO})
    runs = executions_by_key(archive)
    assert all(runs[key] == 1 for key in PRIOR + AUDIO[7:] + BAD)
    assert all(runs[key] == 2 for key in AUDIO[4:7])  # the first try and its -retry1
    assert not any(runs[key] for key in NOTES)

    # And a third run finds nothing left to do
    third = backfill(archive)
    assert third["started"] == 0 and third["skipped"]["transcribed"] == 12


def test_the_cli_dry_runs_then_backfills_a_prefix_and_prints_the_summary(clips: dict[str, Path]) -> None:

    from parakeet_cli import exits
    from parakeet_cli.connect import publish_local_stack
    from tests.local_cli import parakeet

    parameters = {**WORKFLOW_PARAMETERS, "IgnoreKeySuffixes": ".txt"}
    with local_stack(
        parameter_overrides=parameters, model=str(RANDOM_MODEL), ingress=False, pool_schedule_s=None
    ) as stack:
        publish_local_stack(stack.deployment)
        s3, bucket = boto3.client("s3", region_name=REGION), stack.deployment.input_bucket
        s3.put_object(Bucket=bucket, Key="old/broken.mp3", Body=clips["corrupt"].read_bytes())
        s3.put_object(Bucket=bucket, Key="old/readme.txt", Body=b"not media")
        # Given a prefix with one bad file and one ignored file, when it is dry-run
        code, dry = parakeet("backfill", f"s3://{bucket}/old/", "--dry-run", "--json")
        # Then it counts, starts nothing and says so
        assert code == exits.OK and dry["status"] == "SUCCEEDED"
        assert dry["summary"]["would_start"] == 1 and dry["summary"]["skipped"] == {"ignored_suffix": 1}
        assert dry["progress"] == {"status": "SUCCEEDED", "total": 2, "done": 2, "failed": 0, "remaining": 0}
        # When it is backfilled with a concurrency of 1, then the bad file fails (typed, in the catalog)
        code, text = parakeet("backfill", f"s3://{bucket}/old/", "--max-concurrency", "1")
        assert code == exits.FAILED_ITEMS
        assert "backfill summary" in text and "failed" in text and "skipped: ignored suffix" in text
        # And a target outside the stack's input bucket is a usage error
        assert parakeet("backfill", "s3://elsewhere/x/", "--json")[0] == exits.USAGE


def inventory(s3: Any, bucket: str, source_bucket: str, rows: list[list[str]]) -> dict[str, str]:
    """An S3 Inventory report as S3 writes it: a gzip CSV data file and the manifest.json naming it."""
    import csv
    import gzip
    import io

    text = io.StringIO()
    csv.writer(text).writerows(rows)
    data_key = f"inventory/{source_bucket}/daily/data/part-0.csv.gz"
    s3.put_object(Bucket=bucket, Key=data_key, Body=gzip.compress(text.getvalue().encode()))
    manifest = {
        "sourceBucket": source_bucket,
        "destinationBucket": f"arn:aws:s3:::{bucket}",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, ETag, VersionId, IsLatest, IsDeleteMarker",
        "files": [{"key": data_key, "size": 1, "MD5checksum": "x"}],
    }
    key = f"inventory/{source_bucket}/daily/2026-12-01T01-00Z/manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())
    return {"bucket": bucket, "key": key}


def test_an_inventory_manifest_is_read_instead_of_a_listing_and_failed_items_are_tolerated_up_to_the_limit(
    clips: dict[str, Path],
) -> None:
    with local_stack(
        parameter_overrides={**WORKFLOW_PARAMETERS, "IgnoreKeySuffixes": ".txt"},
        model=str(RANDOM_MODEL),
        ingress=False,
        pool_schedule_s=None,
    ) as stack:
        s3, bucket = boto3.client("s3", region_name=REGION), stack.deployment.input_bucket
        s3.put_object(Bucket=bucket, Key="old/broken file.mp3", Body=clips["corrupt"].read_bytes())
        head = s3.head_object(Bucket=bucket, Key="old/broken file.mp3")
        size, etag = str(head["ContentLength"]), head["ETag"].strip('"')
        rows = [
            [bucket, "old/broken+file.mp3", size, etag, "", "true", "false"],  # keys are URL-encoded
            [bucket, "old/readme.txt", "9", "e1", "", "true", "false"],  # ignored suffix
            [bucket, "old/gone.wav", "9", "e2", "v1", "false", "false"],  # an old version
            [bucket, "new/other.wav", "9", "e3", "", "true", "false"],  # outside the prefix
            [bucket, "old/odd.wav", "not-a-size", "e4", "", "true", "false"],  # Decide fails on it
        ]
        manifest = inventory(s3, stack.deployment.output_bucket, bucket, rows)
        # Given an inventory whose rows are 1 of 5 undecidable (20%), when 25% failures are tolerated
        summary = backfill(stack, prefix="old/", manifest=manifest, tolerated_failure_percentage=25)
        # Then the manifest's rows were the items: the bad file (URL-decoded key) was started and failed
        counts = (summary["total"], summary["started"], summary["failed"], summary["item_errors"])
        assert counts == (5, 1, 1, 1)
        assert summary["skipped"] == {"ignored_suffix": 1, "not_current": 1, "outside_prefix": 1}
        # When none is tolerated, then the backfill fails as Step Functions fails a Distributed Map
        sfn = boto3.client("stepfunctions", region_name=REGION)
        run = {"bucket": bucket, "prefix": "old/", "manifest": manifest, "tolerated_failure_percentage": 0}
        arn = sfn.start_execution(
            stateMachineArn=stack.deployment.backfill_state_machine_arn, name="strict", input=json.dumps(run)
        )["executionArn"]
        report = wait_for(arn)
        assert report.status == "FAILED" and report.error == "States.ExceedToleratedFailureThreshold"


def test_an_upload_whose_live_execution_exists_is_not_transcribed_twice(clips: dict[str, Path]) -> None:
    with local_stack(
        parameter_overrides=WORKFLOW_PARAMETERS, model=str(RANDOM_MODEL), ingress=False, pool_schedule_s=None
    ) as stack:
        s3, bucket = boto3.client("s3", region_name=REGION), stack.deployment.input_bucket
        s3.put_object(Bucket=bucket, Key="live/broken.mp3", Body=clips["corrupt"].read_bytes())
        # Given the live ingress started this upload's execution, and its row still says CLAIMED
        # (as while that execution runs)
        live = wait_for(start_execution(stack.deployment, event_for_object(bucket, "live/broken.mp3")))
        table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
        [row] = table.scan()["Items"]
        table.update_item(
            Key={"source_uri": row["source_uri"], "etag": row["etag"]},
            UpdateExpression="SET #s = :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": "CLAIMED"},
        )
        # When the prefix is backfilled
        summary = backfill(stack, prefix="live/")
        # Then the backfill's execution has another name (on an unversioned bucket the live name hashes
        # the S3 event's sequencer, which a listing does not carry: docs/EXACT_BYTES.md), and Claim,
        # finding the live execution's claim, ends it before any GPU work
        assert summary["started"] + summary["already_started"] == 1
        sfn = boto3.client("stepfunctions", region_name=REGION)
        runs = sfn.list_executions(stateMachineArn=stack.deployment.state_machine_arn)["executions"]
        others = [r["executionArn"] for r in runs if r["executionArn"] != live.execution_arn]
        for arn in others:
            report = wait_for(arn)
            assert "AlreadyClaimed" in report.states and "Probe" not in report.states
        assert live.status == "FAILED"


def test_a_summary_that_cannot_be_made_fails_the_backfill_typed_after_every_object_was_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a prefix of ignored files, and result files Summarise refuses (a malformed ResultWriter output)
    from backfill_item import app
    from backfill_item.summary import MalformedResultError

    def refuse(s3: Any, details: Any) -> Any:
        raise MalformedResultError(f"s3://{details.Bucket}/{details.Key} line 1 is not a JSON entry")

    with local_stack(
        parameter_overrides={"IgnoreKeySuffixes": ".txt"},
        model=str(RANDOM_MODEL),
        ingress=False,
        pool_schedule_s=None,
    ) as stack:
        monkeypatch.setattr(app, "result_entries", refuse)
        s3 = boto3.client("s3", region_name=REGION)
        for key in ("old/a.txt", "old/b.txt"):
            s3.put_object(Bucket=stack.deployment.input_bucket, Key=key, Body=b"notes")
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.start_execution(
            stateMachineArn=stack.deployment.backfill_state_machine_arn,
            input=json.dumps({"bucket": stack.deployment.input_bucket, "prefix": "old/"}),
        )["executionArn"]
        deadline = time.monotonic() + 120
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "backfill did not finish"
            time.sleep(0.2)
        # Then the execution fails with the typed error, its cause naming what Summarise refused
        assert described["status"] == "FAILED", described
        assert described["error"] == "BackfillSummaryFailed"
        assert "is not a JSON entry" in described["cause"] and "manifest.json" in described["cause"]
        # and the per-object results it could not count are still in S3
        [map_run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        run_id = map_run["mapRunArn"].rsplit(":", 1)[-1]
        listed = s3.list_objects_v2(
            Bucket=stack.deployment.output_bucket, Prefix=f"backfill-results/{run_id}/"
        )
        assert any(o["Key"].endswith("manifest.json") for o in listed.get("Contents", []))
