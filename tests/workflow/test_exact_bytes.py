"""Specification of exact bytes end to end (issue 10, part 5), with real executions in the local stack.

An upload is pinned from its event to its last write (If-Match on the ETag here: the input bucket is
unversioned by default). The timing is controlled, not slept: the per-file Batch job's entry point is
wrapped (``local_stack(job_runner=...)``) so that the key is overwritten or deleted exactly while the
first upload's GPU job runs. docs/EXACT_BYTES.md states the rules these tests hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from pipeline.contracts import CompletionEvent
from pipeline.outcomes import SourceSuperseded
from pipeline.uploads import uploaded_object_from_event

from local_emulator import event_tap, runner
from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack, run_gpu_job_in_process
from tests.workflow.conftest import WORKFLOW_PARAMETERS

REGION = "us-east-1"
KEY = "calls/overwritten.wav"
SUPERSEDED_REASON = SourceSuperseded.reason
OUTPUT_NAMES = ("transcript.json", ".srt", ".vtt", ".txt", ".jsonl")


class JobHook:
    """Runs ``action`` once, inside the first GPU job of ``key``, before the job reads its input."""

    def __init__(self) -> None:
        self.key = ""
        self.action: Callable[[], None] | None = None
        self.fired = 0

    def __call__(self, command: list[str], env: dict[str, str]) -> int:
        if self.action is not None and command[:1] == ["--request"]:
            source = json.loads(command[1]).get("source") or {}
            if str(source.get("uri", "")).endswith("/" + self.key):
                action, self.action = self.action, None
                action()
                self.fired += 1
        return run_gpu_job_in_process(command, env)


@pytest.fixture
def hooked() -> Iterator[tuple[LocalStack, JobHook]]:
    hook = JobHook()
    with local_stack(
        parameter_overrides=WORKFLOW_PARAMETERS, model=str(RANDOM_MODEL), job_runner=hook
    ) as local:
        yield local, hook


@pytest.fixture(scope="module")
def newer_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess

    wav = tmp_path_factory.mktemp("exact") / "newer.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), "Good morning. A newer upload."], check=True)
    return wav


def row(stack: LocalStack, event: dict[str, Any]) -> dict[str, Any]:
    source = uploaded_object_from_event(event)
    table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
    return table.get_item(Key={"source_uri": source.uri, "etag": source.etag}).get("Item") or {}


def outputs_of(stack: LocalStack, key: str) -> dict[str, dict[str, Any]]:
    """Every current output object of an input key: its bytes and its owner metadata."""
    s3 = boto3.client("s3", region_name=REGION)
    found = {}
    for item in s3.list_objects_v2(Bucket=stack.deployment.output_bucket).get("Contents", []):
        if key in item["Key"] or key.rsplit(".", 1)[0] in item["Key"]:
            got = s3.get_object(Bucket=stack.deployment.output_bucket, Key=item["Key"])
            found[item["Key"]] = {"body": got["Body"].read(), "metadata": got["Metadata"]}
    return found


def assert_outputs_hold_only(stack: LocalStack, key: str, event: dict[str, Any]) -> None:
    """Every output of the key (json, srt, vtt, txt, segments) is the given upload's, words included."""
    etag = event["detail"]["object"]["etag"]
    outputs = outputs_of(stack, key)
    assert {name for name in OUTPUT_NAMES if any(k.endswith(name) for k in outputs)} == set(OUTPUT_NAMES)
    for output_key, output in outputs.items():
        if output_key.endswith(OUTPUT_NAMES):  # the words; error.json is a job's own report, no output
            assert output["metadata"].get("source-etag") == etag, output_key
    [transcript] = [o for k, o in outputs.items() if k.endswith("transcript.json")]
    document = json.loads(transcript["body"])
    assert document["source"]["etag"] == etag
    [txt] = [o for k, o in outputs.items() if k.endswith(".txt")]
    assert txt["body"].decode("utf-8").strip() == document["text"].strip()


def overwrite_with(stack: LocalStack, clip: Path, key: str = KEY) -> Callable[[], None]:
    def overwrite() -> None:
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=stack.deployment.input_bucket, Key=key, Body=clip.read_bytes()
        )

    return overwrite


def newest_event(stack: LocalStack, key: str = KEY) -> dict[str, Any]:
    """The S3 event the key's latest upload emitted (its sequencer is part of the execution's name)."""
    assert stack.ingress is not None
    stack.ingress.wait_idle(300)
    etag = (
        boto3.client("s3", region_name=REGION)
        .head_object(Bucket=stack.deployment.input_bucket, Key=key)["ETag"]
        .strip('"')
    )
    return [
        e
        for e in stack.ingress.emitted
        if unquote_plus(e["detail"]["object"]["key"]) == key and e["detail"]["object"]["etag"] == etag
    ][-1]


def execution_of(stack: LocalStack, event: dict[str, Any]) -> runner.ExecutionReport:
    name = runner.planned_name(stack.deployment, event)
    assert name is not None
    return runner.wait_for(runner.execution_arn(stack.deployment, name), timeout_s=300)


def output_versions(stack: LocalStack) -> list[tuple[str, str]]:
    s3 = boto3.client("s3", region_name=REGION)
    listed = s3.list_object_versions(Bucket=stack.deployment.output_bucket)
    return sorted((v["Key"], v["VersionId"]) for v in listed.get("Versions", []))


# ---------------------------------------------------------------- overwritten mid-run
def test_an_upload_overwritten_while_its_job_runs_ends_superseded_and_the_outputs_hold_the_newer_words(
    hooked: tuple[LocalStack, JobHook], clips: dict[str, Path], newer_clip: Path
) -> None:
    stack, hook = hooked
    # Given the key is overwritten with other bytes while the first upload's GPU job runs
    hook.key, hook.action = KEY, overwrite_with(stack, newer_clip)
    first_event, first = runner.upload_and_run(stack.deployment, str(clips["short"]), KEY)
    assert hook.fired == 1 and first is not None
    newer = newest_event(stack)
    second = execution_of(stack, newer)

    # Then the first execution ends in its own state, Superseded: no internal failure, no bad input
    assert first.status == "SUCCEEDED"
    assert first.states[-3:] == ["RecordFailure", "IsSuperseded", "Superseded"]
    old = row(stack, first_event)
    assert old["status"] == "SUPERSEDED" and old["reason"] == SUPERSEDED_REASON
    assert old["superseded_by"]["etag"] == newer["detail"]["object"]["etag"]
    assert not old["superseded_by"].get("deleted")
    # And the newer upload is transcribed, and every output holds only its words
    assert second.status == "SUCCEEDED" and row(stack, newer)["status"] == "TRANSCRIBED"
    assert_outputs_hold_only(stack, KEY, newer)

    # When EventBridge delivers the older upload's event late, then a duplicate of each
    rows_before = (row(stack, first_event), row(stack, newer))
    versions_before = output_versions(stack)
    executions_before = len(
        boto3.client("stepfunctions", region_name=REGION).list_executions(
            stateMachineArn=stack.deployment.state_machine_arn
        )["executions"]
    )
    late = runner.deliver(stack.deployment, first_event)
    again = runner.deliver(stack.deployment, {**newer, "id": "a-duplicate-delivery"})
    runner.deliver(stack.deployment, first_event)

    # Then nothing changes: no new execution, the same rows, not one output written again
    assert late is not None and late.execution_arn == first.execution_arn
    assert again is not None and again.execution_arn == second.execution_arn
    assert (
        len(
            boto3.client("stepfunctions", region_name=REGION).list_executions(
                stateMachineArn=stack.deployment.state_machine_arn
            )["executions"]
        )
        == executions_before
    )
    assert (row(stack, first_event), row(stack, newer)) == rows_before
    assert output_versions(stack) == versions_before
    assert_outputs_hold_only(stack, KEY, newer)


def test_an_upload_deleted_while_its_job_runs_ends_superseded_by_the_deletion(
    hooked: tuple[LocalStack, JobHook], clips: dict[str, Path]
) -> None:
    stack, hook = hooked
    key = "calls/deleted.wav"

    def delete() -> None:
        boto3.client("s3", region_name=REGION).delete_object(Bucket=stack.deployment.input_bucket, Key=key)

    # Given the object is deleted while its GPU job runs
    hook.key, hook.action = key, delete
    event, report = runner.upload_and_run(stack.deployment, str(clips["short"]), key)
    # Then the execution ends Superseded (typed and recorded, not internal), the row says the key is empty
    assert hook.fired == 1 and report is not None
    assert report.status == "SUCCEEDED" and report.states[-1] == "Superseded"
    recorded = row(stack, event)
    assert (recorded["status"], recorded["reason"]) == ("SUPERSEDED", SUPERSEDED_REASON)
    assert recorded["superseded_by"]["deleted"] is True
    # And no transcript of bytes nobody holds any more was published
    assert not any(k.endswith("transcript.json") for k in outputs_of(stack, key))


def test_a_then_b_then_a_again_leaves_a_words_and_nothing_of_b(
    hooked: tuple[LocalStack, JobHook], clips: dict[str, Path], newer_clip: Path
) -> None:
    stack, _ = hooked
    key = "calls/aba.wav"
    a_event, a = runner.upload_and_run(stack.deployment, str(clips["short"]), key)
    b_event, b = runner.upload_and_run(stack.deployment, str(newer_clip), key)
    assert a is not None and b is not None and (a.status, b.status) == ("SUCCEEDED", "SUCCEEDED")
    # When A's bytes are uploaded again (same ETag as the first upload)
    again_event, _ = runner.upload_and_run(stack.deployment, str(clips["short"]), key)
    assert again_event["detail"]["object"]["etag"] == a_event["detail"]["object"]["etag"]
    # Then the key's outputs are A's words again, nothing of B remains
    assert_outputs_hold_only(stack, key, again_event)
    assert row(stack, b_event)["status"] in {"TRANSCRIBED", "SUPERSEDED"}
    again = execution_of(stack, again_event)
    assert again.execution_arn != a.execution_arn and "Index" in again.states
    assert row(stack, again_event)["status"] == "TRANSCRIBED"


def test_identical_bytes_uploaded_again_end_at_claim_without_a_second_gpu_job(
    hooked: tuple[LocalStack, JobHook], clips: dict[str, Path]
) -> None:
    stack, _ = hooked
    key = "calls/twice.wav"
    _, first = runner.upload_and_run(stack.deployment, str(clips["short"]), key)
    versions = output_versions(stack)
    # When the same bytes are uploaded again (a new PUT: a new event, its own execution)
    _, second = runner.upload_and_run(stack.deployment, str(clips["short"]), key)
    # Then the second execution ends at Claim: the key's outputs already hold these words
    assert first is not None and second is not None and first.execution_arn != second.execution_arn
    assert second.status == "SUCCEEDED" and second.states == ["Claim", "IsClaimed", "AlreadyClaimed"]
    assert len([j for j in stack.bridge.batch_jobs if j.command[:1] == ["--request"]]) == 1
    assert output_versions(stack) == versions


# ---------------------------------------------------------------- completion events
def test_real_executions_emit_ready_failed_and_superseded_events_that_match_the_contract(
    hooked: tuple[LocalStack, JobHook], clips: dict[str, Path], newer_clip: Path
) -> None:
    stack, hook = hooked
    # Given a subscriber: a rule on source parakeet.transcription with an SQS target
    queue = event_tap.subscribe("transcripts", {"source": ["parakeet.transcription"]})

    # When a good, a bad and a superseded upload run
    _, good = runner.upload_and_run(stack.deployment, str(clips["short"]), "events/good.wav")
    _, bad = runner.upload_and_run(stack.deployment, str(clips["corrupt"]), "events/bad.mp3")
    hook.key, hook.action = "events/over.wav", overwrite_with(stack, newer_clip, "events/over.wav")
    _, over = runner.upload_and_run(stack.deployment, str(clips["short"]), "events/over.wav")
    newer = newest_event(stack, "events/over.wav")
    execution_of(stack, newer)

    received = event_tap.drain(queue)
    by = {
        (e["detail-type"], e["detail"]["upload"]["key"]): CompletionEvent.model_validate(e["detail"])
        for e in received
    }

    # Then each execution's event arrived, from the documented source, its detail valid per the contract
    assert all(e["source"] == "parakeet.transcription" for e in received)
    assert set(by) == {
        ("Transcript Ready", "events/good.wav"),
        ("Transcript Failed", "events/bad.mp3"),
        ("Transcript Superseded", "events/over.wav"),
        ("Transcript Ready", "events/over.wav"),
    }
    ready = by[("Transcript Ready", "events/good.wav")]
    assert ready.status == "TRANSCRIBED" and good is not None and ready.execution_arn == good.execution_arn
    assert ready.outputs is not None and ready.outputs.srt.endswith(".srt")
    assert ready.duration_s and ready.mode and ready.language and ready.cost_estimate_usd is not None
    failed = by[("Transcript Failed", "events/bad.mp3")]
    assert bad is not None and failed.execution_arn == bad.execution_arn
    assert failed.status == "FAILED" and failed.reason and failed.reason_class == "bad_input"
    superseded = by[("Transcript Superseded", "events/over.wav")]
    assert over is not None and superseded.execution_arn == over.execution_arn
    assert superseded.status == "SUPERSEDED" and superseded.reason == SUPERSEDED_REASON
    assert superseded.superseded_by is not None
    assert superseded.superseded_by.etag == newer["detail"]["object"]["etag"]
