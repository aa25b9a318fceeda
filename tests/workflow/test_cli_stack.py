"""The `parakeet` stack commands against the local stack: upload -> status -> get, a failure -> status
--failed -> retry, cost, search, the --json shapes and the exit codes.

The stack is the real template + ASL in moto's in-process AWS (local_emulator); its outputs are
published as the CloudFormation stack ``parakeet-local`` (parakeet_cli.connect.publish_local_stack), so
``--local`` resolves the names exactly as it does against `make serve` or AWS. Under ``mock_aws`` plain
boto3 clients reach moto without an endpoint: the test injects that client factory. EventBridge's part
(delivering an upload's event to the state machine) is played by local_emulator.runner.
"""

from __future__ import annotations

import json
import shlex
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pipeline.transcript import SCHEMA_VERSION, low_confidence_share
from typer.testing import CliRunner

from local_emulator import runner
from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack
from local_emulator.template import REGION
from parakeet_cli import exits
from parakeet_cli.app import CliState, app
from parakeet_cli.connect import local_outputs, publish_local_stack
from tests.local_cli import moto_clients, parakeet
from tests.workflow.conftest import WORKFLOW_PARAMETERS


@pytest.fixture(scope="module")
def cli_stack() -> Iterator[LocalStack]:
    # The in-process Batch job prints to stdout, which is the CLI's (captured) stdout while it waits:
    # send the job's console output to a log instead, as awslogs would.
    with (
        tempfile.TemporaryFile("w+") as job_log,
        local_stack(
            parameter_overrides=WORKFLOW_PARAMETERS, model=str(RANDOM_MODEL), job_log=job_log
        ) as local,
    ):
        publish_local_stack(local.deployment)
        yield local


def deliver(stack: LocalStack, key: str) -> runner.ExecutionReport:
    """(Re)deliver the S3 event the upload of ``key`` emitted; its execution's report. The very event:
    a rebuilt one has a new sequencer, i.e. it would be another PUT (docs/EXACT_BYTES.md)."""
    event = runner.event_for_object(stack.deployment.input_bucket, key)
    if stack.ingress is not None:
        stack.ingress.wait_idle(300)
        etag = event["detail"]["object"]["etag"]
        same = [
            e
            for e in stack.ingress.emitted
            if e["detail"]["object"]["etag"] == etag
            and urllib.parse.unquote_plus(e["detail"]["object"]["key"]) == key
        ]
        event = same[-1] if same else event
    report = runner.deliver(stack.deployment, event)
    assert report is not None
    return report


def test_the_local_stack_resolves_from_its_published_outputs(cli_stack: LocalStack) -> None:
    code, names = parakeet("stack", "--json")
    assert code == exits.OK
    deployment = cli_stack.deployment
    assert names == {
        "stack": "parakeet-local",
        "region": REGION,
        "local": True,
        "endpoint_url": "http://127.0.0.1:4566",
        "input_bucket": deployment.input_bucket,
        "output_bucket": deployment.output_bucket,
        "catalog_table": deployment.catalog_table,
        "state_machine_arn": deployment.state_machine_arn,
    }


def test_upload_then_status_then_get(cli_stack: LocalStack, clips: dict[str, Path], tmp_path: Path) -> None:
    # When a clip is uploaded under a prefix
    code, uploaded = parakeet("upload", str(clips["short"]), "--prefix", "meetings", "--json")
    assert code == exits.OK
    [item] = uploaded["uploads"]
    assert item["key"] == "meetings/short.wav"
    assert item["uri"] == f"s3://{cli_stack.deployment.input_bucket}/meetings/short.wav"
    # (an unversioned bucket: the name's end hashes the event's sequencer, so only its start is known)
    assert item["execution_name"] is None and item["execution_name_prefix"].startswith("meetings_short-wav-")
    # (and EventBridge delivers its event)
    assert deliver(cli_stack, "meetings/short.wav").status == "SUCCEEDED"

    # Then status shows the catalog row and its execution
    code, status = parakeet("status", "meetings/short.wav", "--json")
    assert code == exits.OK
    latest = status["latest"]
    assert (latest["status"], latest["etag"], latest["key"]) == ("TRANSCRIBED", item["etag"], item["key"])
    assert latest["execution"]["status"] == "SUCCEEDED"
    assert latest["execution"]["arn"] == latest["execution_arn"]
    assert latest["duration_s"] > 0 and set(latest["outputs"]) >= {"srt", "vtt", "txt", "transcript_json"}
    # And the text form names it too
    code, text = parakeet("status", "meetings/short.wav")
    assert code == exits.OK and "TRANSCRIBED" in text and "meetings/short.wav" in text

    # And get prints the subtitles, or writes a format to a folder
    code, srt = parakeet("get", "meetings/short.wav", "--format", "srt")
    assert code == exits.OK and srt.startswith("1\n00:00:0")
    code, got = parakeet("get", "meetings/short.wav", "--format", "json", "--out", str(tmp_path), "--json")
    assert code == exits.OK and got["path"] == str(tmp_path / "short.json") and got["content"] is None
    document = json.loads((tmp_path / "short.json").read_text())
    assert document["schema_version"] == SCHEMA_VERSION
    # (every word carries a confidence, and the catalog row the share of them under the threshold)
    confidences = [w["confidence"] for w in document["words"]]
    assert confidences and latest["low_confidence_share"] == low_confidence_share(confidences)
    code, vtt = parakeet("get", "meetings/short.wav", "--format", "vtt", "--json")
    assert code == exits.OK and vtt["content"].startswith("WEBVTT")

    # And the overview counts it
    code, overview = parakeet("status", "--json")
    assert code == exits.OK and overview["counts"]["TRANSCRIBED"] >= 1
    assert "meetings/short.wav" in [r["key"] for r in overview["recent"]]


def test_upload_languages_tags_the_upload_and_the_transcript_flags_what_reads_otherwise(
    cli_stack: LocalStack, clips: dict[str, Path], tmp_path: Path
) -> None:
    # When English speech is uploaded expecting German only
    code, uploaded = parakeet(
        "upload", str(clips["short"]), "--prefix", "de-only", "--languages", "DE", "--json"
    )
    assert code == exits.OK and uploaded["uploads"][0]["key"] == "de-only/short.wav"
    assert deliver(cli_stack, "de-only/short.wav").status == "SUCCEEDED"
    # Then the Probe read the tag, and the transcript keeps English and says so in its warnings
    code, got = parakeet("get", "de-only/short.wav", "--format", "json", "--out", str(tmp_path), "--json")
    assert code == exits.OK and got["path"] == str(tmp_path / "short.json")
    document = json.loads((tmp_path / "short.json").read_text())
    assert document["expected_languages"] == ["de"] and document["language"] != "de"
    assert any("not as one of the expected languages (de)" in w for w in document["warnings"])


def test_a_failed_upload_is_listed_and_retried_without_reuploading(
    cli_stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given an upload whose Batch job lost every Spot instance (an internal failure) ...
    cli_stack.bridge.simulate_spot_reclaims(3)
    _, report = runner.upload_and_run(cli_stack.deployment, str(clips["short"]), "calls/unlucky.wav")
    assert report is not None and report.status == "FAILED"
    # ... and bytes that are not media (a bad-input failure)
    _, report = runner.upload_and_run(cli_stack.deployment, str(clips["corrupt"]), "calls/broken.mp3")
    assert report is not None and report.status == "FAILED"
    s3 = boto3.client("s3", region_name=REGION)
    versions_before = s3.list_objects_v2(Bucket=cli_stack.deployment.input_bucket)["KeyCount"]

    # When the failures are listed, then both are there with their reason class and execution
    code, failed = parakeet("status", "--failed", "--json")
    assert code == exits.OK
    by_key = {r["key"]: r for r in failed["rows"]}
    assert by_key["calls/unlucky.wav"]["reason_class"] == "internal"
    assert by_key["calls/broken.mp3"]["reason_class"] == "bad_input"
    assert by_key["calls/unlucky.wav"]["execution"]["status"] == "FAILED"

    # When every failure is retried (and waited for)
    code, retried = parakeet("retry", "--failed", "--wait", "--json")

    # Then the internal failure ran again, under a readable retry name, and is now transcribed
    results = {r["key"]: r for r in retried["retries"]}
    unlucky = results["calls/unlucky.wav"]
    assert unlucky["retried"] is True and unlucky["attempt"] == 1
    name = unlucky["execution_name"]
    assert name.startswith("calls_unlucky-wav-") and name.endswith("-retry1")
    assert (unlucky["execution_status"], unlucky["status"]) == ("SUCCEEDED", "TRANSCRIBED")
    # And the bad input was skipped (the same bytes would fail the same way), so not everything was done
    skipped = results["calls/broken.mp3"]
    assert skipped["retried"] is False and "bad input" in skipped["skipped"]
    assert code == exits.FAILED_ITEMS
    # And nothing was uploaded again
    assert s3.list_objects_v2(Bucket=cli_stack.deployment.input_bucket)["KeyCount"] == versions_before
    code, status = parakeet("status", "calls/unlucky.wav", "--json")
    assert status["latest"]["status"] == "TRANSCRIBED"
    assert status["latest"]["execution"]["name"] == unlucky["execution_name"]

    # When the bad input is retried by name on purpose, a second retry name is not needed: retry1 is free
    code, again = parakeet("retry", "calls/broken.mp3", "--include-bad-input", "--wait", "--json")
    [broken] = again["retries"]
    assert broken["retried"] is True and broken["execution_name"].endswith("-retry1")
    assert broken["status"] == "FAILED" and code == exits.FAILED_ITEMS
    # And a transcribed key has nothing to retry
    code, nothing = parakeet("retry", "calls/unlucky.wav", "--json")
    assert code == exits.FAILED_ITEMS and "not FAILED" in nothing["retries"][0]["skipped"]


def test_cost_sums_the_transcribed_uploads(cli_stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given uploads transcribed under two prefixes (whatever else the module transcribed too)
    for key in ("costs-a/short.wav", "costs-b/short.wav"):
        _, done = runner.upload_and_run(cli_stack.deployment, str(clips["short"]), key)
        assert done is not None and done.status == "SUCCEEDED", done and done.cause
    code, report = parakeet("cost", "--by", "prefix", "--json")
    assert code == exits.OK
    assert {"costs-a/", "costs-b/"} <= set(report["groups"])
    total = report["total"]
    assert total["files"] == sum(g["files"] for g in report["groups"].values()) >= 2
    assert total["audio_hours"] > 0 and total["gpu_seconds"] > 0 and total["cost_usd"] > 0
    code, by_mode = parakeet("cost", "--by", "mode", "--since", "1d", "--json")
    assert code == exits.OK and by_mode["since"].endswith("Z") and by_mode["total"]["files"] == total["files"]
    code, future = parakeet("cost", "--since", "2999-01-01", "--json")
    assert code == exits.OK and future["total"]["files"] == 0
    code, text = parakeet("cost")
    assert code == exits.OK and "total" in text


def segment_rows_of(report: runner.ExecutionReport) -> list[dict[str, Any]]:
    """The segment lines a run wrote (its Postprocess output names the file)."""
    assert report.output is not None
    bucket, _, key = (
        report.output["postprocess"]["outputs"]["segments_jsonl"].removeprefix("s3://").partition("/")
    )
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def test_search_finds_the_words_a_workflow_run_wrote(cli_stack: LocalStack, clips: dict[str, Path]) -> None:
    # Given a clip transcribed by the local stack's workflow (the random-weight model says arbitrary
    # words: the phrase searched is one the run really wrote to the segments table)
    _, report = runner.upload_and_run(cli_stack.deployment, str(clips["short"]), "archive/find me.wav")
    assert report is not None and report.status == "SUCCEEDED", report and report.cause
    assert "/segments/dt=" in report.output["postprocess"]["outputs"]["segments_jsonl"]
    rows = segment_rows_of(report)
    said = next(r for r in rows if r["text"].strip())
    phrase = said["text"].split()[0].upper()  # any case matches

    # When the phrase is searched on the local stack
    code, found = parakeet("search", phrase, "--json")

    # Then the run's segment is a hit, with its file, time range, text and a `get` command for it
    assert code == exits.OK and found["engine"] == "duckdb" and found["count"] >= 1
    hits = [h for h in found["hits"] if h["key"] == "archive/find me.wav"]
    hit = hits[0]
    assert (hit["start_s"], hit["end_s"], hit["text"]) == (said["start_s"], said["end_s"], said["text"])
    assert hits[0]["transcribed_at"] == said["transcribed_at"] and hits[0]["etag"] == said["etag"]
    assert hits[0]["get_command"] == "parakeet --local get 'archive/find me.wav' --format srt"
    # And that command fetches the file's subtitles (cues wrap long words: compare their start)
    code, srt = parakeet(*shlex.split(hits[0]["get_command"])[2:])
    assert code == exits.OK and srt.startswith("1\n00:00:0") and said["text"][:8] in srt
    # And the filters narrow it: today's transcripts only, another language, nothing before tomorrow
    code, today = parakeet("search", phrase, "--since", said["transcribed_at"][:10], "--json")
    assert code == exits.OK and "archive/find me.wav" in [h["key"] for h in today["hits"]]
    code, other = parakeet("search", phrase, "--language", "xx", "--json")
    assert code == exits.OK and other["hits"] == []
    code, future = parakeet("search", phrase, "--since", "2999-01-01", "--json")
    assert code == exits.OK and future["count"] == 0
    # And the table form ends with the file's `get` command on a line of its own
    code, text = parakeet("search", phrase)
    assert code == exits.OK and hit["get_command"] in text.splitlines()


def test_an_overwritten_key_answers_only_with_its_newest_uploads_words(
    cli_stack: LocalStack, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import postprocess.postprocess

    # Given a key transcribed yesterday (Postprocess's clock set a day back for this run) ...
    monkeypatch.setattr(postprocess.postprocess, "utc_now_iso", lambda: "2026-01-01T12:00:00.000Z")
    _, first = runner.upload_and_run(cli_stack.deployment, str(clips["long"]), "archive/overwritten.mp3")
    assert first is not None and first.status == "SUCCEEDED", first and first.cause
    old_rows = segment_rows_of(first)
    monkeypatch.undo()
    # ... then overwritten with other audio and transcribed again today
    _, second = runner.upload_and_run(cli_stack.deployment, str(clips["short"]), "archive/overwritten.mp3")
    assert second is not None and second.status == "SUCCEEDED", second and second.cause
    new_rows = segment_rows_of(second)
    # (both uploads' files are in the bucket, in their own day's folder)
    first_file = first.output["postprocess"]["outputs"]["segments_jsonl"]
    assert "/segments/dt=2026-01-01/" in first_file
    assert "/segments/dt=2026-01-01/" not in second.output["postprocess"]["outputs"]["segments_jsonl"]
    assert segment_rows_of(first) == old_rows
    old_etag, new_etag = old_rows[0]["etag"], new_rows[0]["etag"]
    assert old_etag != new_etag

    # When each upload's words are searched
    for rows in (old_rows, new_rows):
        for phrase in {r["text"].split()[0] for r in rows if r["text"].strip()}:
            code, found = parakeet("search", phrase, "--limit", "1000", "--json")
            assert code == exits.OK
            # Then the key answers with the newest upload's segments only
            etags = {h["etag"] for h in found["hits"] if h["key"] == "archive/overwritten.mp3"}
            assert etags <= {new_etag}, phrase
    said = next(r for r in new_rows if r["text"].strip())
    code, found = parakeet("search", said["text"].split()[0], "--json")
    assert "archive/overwritten.mp3" in [h["key"] for h in found["hits"]]


def test_upload_wait_follows_each_uploads_own_execution_even_for_identical_bytes(
    cli_stack: LocalStack, clips: dict[str, Path]
) -> None:
    # When a clip is uploaded and waited for
    code, first = parakeet(
        "upload", str(clips["short"]), "--prefix", "waited", "--wait", "--timeout", "300", "--json"
    )

    # Then the command found the execution its event started and ended with the transcribed row
    [item] = first["uploads"]
    assert code == exits.OK and item["status"] == "TRANSCRIBED"
    assert item["execution_name"].startswith(item["execution_name_prefix"])
    assert item["execution_arn"] == item["row"]["execution_arn"]

    # When the same bytes are uploaded to the same key again
    code, again = parakeet(
        "upload", str(clips["short"]), "--prefix", "waited", "--wait", "--timeout", "300", "--json"
    )

    # Then it is its own execution (another PUT), which Claim ends at AlreadyClaimed, and --wait returns
    # on that execution's end with the row that already holds these bytes' transcript
    # (its own execution's end, not the --timeout: the execution is over when the command returns)
    [repeat] = again["uploads"]
    assert code == exits.OK and repeat["status"] == "TRANSCRIBED"
    assert repeat["execution_arn"] not in (None, item["execution_arn"])
    assert repeat["execution_status"] == "SUCCEEDED"


def test_upload_wait_attributes_identical_uploads_to_one_key_within_a_second_each_to_its_own_execution(
    cli_stack: LocalStack, clips: dict[str, Path]
) -> None:
    # When the same file is uploaded to the same key twice in one command (two PUTs within a second,
    # identical bytes: the same key, the same ETag, names that differ only in the event's sequencer)
    code, document = parakeet(
        "upload",
        str(clips["short"]),
        str(clips["short"]),
        "--prefix",
        "twice",
        "--wait",
        "--timeout",
        "300",
        "--json",
    )

    # Then each upload reports an execution of its own, and it is the one its own PUT's event started
    first, second = document["uploads"]
    assert first["key"] == second["key"] and first["etag"] == second["etag"]
    assert first["request_id"] != second["request_id"]
    assert None not in (first["execution_arn"], second["execution_arn"])
    assert first["execution_arn"] != second["execution_arn"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for item in (first, second):
        execution = sfn.describe_execution(executionArn=item["execution_arn"])
        assert json.loads(execution["input"])["detail"]["request-id"] == item["request_id"]
        assert item["execution_status"] == execution["status"] == "SUCCEEDED"
    # And both bytes are transcribed (one transcribed them, the other ended at AlreadyClaimed)
    assert code == exits.OK and first["status"] == second["status"] == "TRANSCRIBED"


def test_upload_wait_says_when_no_execution_can_be_attributed(
    cli_stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given the upload rule is off (as when EventBridge is not enabled on the bucket)
    events = boto3.client("events", region_name=REGION)
    rule = cli_stack.deployment.upload_rule_name
    events.disable_rule(Name=rule)
    try:
        # When a clip is uploaded with --wait
        code, document = parakeet(
            "upload", str(clips["short"]), "--prefix", "unheard", "--wait", "--timeout", "2", "--json"
        )
    finally:
        events.enable_rule(Name=rule)

    # Then no other upload's outcome is reported: the item says it could not be attributed, and why
    [item] = document["uploads"]
    assert code == exits.FAILED_ITEMS
    assert item["status"] == "UNATTRIBUTED" and item["execution_arn"] is None and "row" not in item
    assert item["request_id"] in item["message"] and "EventBridge" in item["message"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["status", "nothing/here.wav", "--json"], exits.NOT_FOUND),
        (["get", "calls/broken.mp3", "--format", "srt", "--json"], exits.NOT_FOUND),
        (["get", "meetings/short.wav", "--format", "docx", "--json"], exits.USAGE),
        (["status", "meetings/short.wav", "--failed", "--json"], exits.USAGE),
        (["retry", "--json"], exits.USAGE),
        (["cost", "--since", "last tuesday", "--json"], exits.USAGE),
        (["upload", "/no/such/file.wav", "--json"], exits.NOT_FOUND),
        (["upload", "/no/such/file.wav", "--languages", "en+xx", "--json"], exits.USAGE),
        (["search", "hello", "--limit", "0", "--json"], exits.USAGE),
        (["search", "hello", "--since", "someday", "--json"], exits.USAGE),
    ],
)
def test_exit_codes(cli_stack: LocalStack, args: list[str], code: int) -> None:
    exit_code, document = parakeet(*args)
    assert exit_code == code
    assert document["exit_code"] == code and document["error"] == exits.NAMES[code] and document["message"]


def test_stack_resolution_errors(cli_stack: LocalStack) -> None:
    cli = CliRunner()
    result = cli.invoke(app, ["status", "--json"], obj=CliState(client_factory=moto_clients))
    assert result.exit_code == exits.USAGE and "--stack" in json.loads(result.stdout)["message"]
    result = cli.invoke(
        app, ["--stack", "nope", "status", "--json"], obj=CliState(client_factory=moto_clients)
    )
    assert result.exit_code == exits.NOT_FOUND and "no stack named 'nope'" in result.stdout
    # A local endpoint without a published stack says how to start one
    boto3.client("cloudformation", region_name=REGION).delete_stack(StackName="parakeet-local")
    try:
        result = cli.invoke(app, ["--local", "status", "--json"], obj=CliState(client_factory=moto_clients))
        assert result.exit_code == exits.NOT_FOUND and "make serve" in result.stdout
    finally:
        publish_local_stack(cli_stack.deployment)


def test_an_aws_error_has_its_own_exit_code(cli_stack: LocalStack) -> None:
    # Given a stack whose catalog table is gone (published beside the module's stack, which stays whole)
    outputs = {
        name: "no-such-table" if value == cli_stack.deployment.catalog_table else value
        for name, value in local_outputs(cli_stack.deployment).items()
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="parakeet-without-catalog",
        TemplateBody=json.dumps(
            {
                "Resources": {"Marker": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {name: {"Value": value} for name, value in outputs.items()},
            }
        ),
    )
    # When the CLI reads the catalog, then the AWS error has its own exit code and names its code
    result = CliRunner().invoke(
        app,
        ["--stack", "parakeet-without-catalog", "status", "--failed", "--json"],
        obj=CliState(client_factory=moto_clients),
    )
    document = json.loads(result.stdout)
    assert result.exit_code == exits.AWS_ERROR
    assert document["aws_code"] == "ResourceNotFoundException"
