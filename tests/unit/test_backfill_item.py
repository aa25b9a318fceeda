"""Specification of a backfill's per-object decision (functions/backfill_item) and its summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from backfill_item.decide import decide, next_retry
from backfill_item.summary import MalformedResultError, result_entries, summarise
from moto import mock_aws
from pipeline.backfill import BackfillItemRequest, BackfillSummaryRequest, ResultWriterDetails
from pipeline.naming import execution_name
from pipeline.uploads import uploaded_object_from_event
from start_execution.starter import plan_record

from local_emulator.distributed_map import encode_entries

BUCKET = "archive"
ASL = json.loads((Path(__file__).resolve().parents[2] / "statemachine" / "backfill.asl.json").read_text())


class Table:
    """The catalog's GetItem, from rows keyed (source_uri, etag)."""

    def __init__(self, rows: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.rows = rows or {}
        self.reads: list[dict[str, Any]] = []

    def get_item(self, Key: dict[str, str], ConsistentRead: bool) -> dict[str, Any]:
        assert ConsistentRead
        self.reads.append(Key)
        row = self.rows.get((Key["source_uri"], Key["etag"]))
        return {"Item": row} if row else {}


def listed(key: str, etag: str = "abc123", size: int = 1000, **extra: Any) -> BackfillItemRequest:
    item = {
        "Key": key,
        "Etag": f'"{etag}"',
        "Size": size,
        "LastModified": 1700000000,
        "StorageClass": "STANDARD",
    }
    return BackfillItemRequest(bucket=BUCKET, prefix="calls/", source="listing", item={**item, **extra})


def run(
    request: BackfillItemRequest, table: Table | None = None, suffixes: tuple[str, ...] = (".txt",)
) -> Any:
    return decide(request, table or Table(), suffixes, "123456789012", "us-east-1")


def test_an_object_without_a_row_is_started_under_the_live_starters_name_with_its_event() -> None:
    decision = run(listed("calls/a b.wav"))
    assert decision.action == "start" and decision.outcome == "start"
    # The input is the S3 Object Created event Claim parses, naming exactly these bytes
    source = uploaded_object_from_event(decision.input)
    assert (source.bucket, source.key, source.etag, source.size) == (BUCKET, "calls/a b.wav", "abc123", 1000)
    # The live starter would give this upload the same name: the two collide (ExecutionAlreadyExists)
    assert plan_record(json.dumps(decision.input), ()).name == decision.name == execution_name(source)


def test_the_same_object_gets_the_same_event_so_two_backfills_start_it_idempotently() -> None:
    assert run(listed("calls/a.wav")).input == run(listed("calls/a.wav")).input


@pytest.mark.parametrize(
    ("key", "reason"), [("calls/", "folder_marker"), ("calls/notes.TXT", "ignored_suffix")]
)
def test_folder_markers_and_ignored_suffixes_are_skipped_by_the_starters_rule_without_a_catalog_read(
    key: str, reason: str
) -> None:
    table = Table()
    decision = run(listed(key), table)
    assert (decision.action, decision.outcome, decision.reason) == ("done", "skipped", reason)
    assert table.reads == []


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"status": "TRANSCRIBED"}, "transcribed"),
        ({"status": "FAILED", "reason_class": "bad_input", "reason": "corrupt_media"}, "bad_input"),
        ({"status": "SUPERSEDED"}, "superseded"),
    ],
)
def test_bytes_that_already_have_an_answer_are_not_started_again(row: dict[str, Any], reason: str) -> None:
    table = Table({("s3://archive/calls/a.wav", "abc123"): row})
    decision = run(listed("calls/a.wav"), table)
    assert (decision.action, decision.reason) == ("done", reason)


def test_a_row_for_other_bytes_of_the_key_does_not_count() -> None:
    table = Table({("s3://archive/calls/a.wav", "old-etag"): {"status": "TRANSCRIBED"}})
    assert run(listed("calls/a.wav"), table).action == "start"


def test_an_internal_failure_is_retried_under_the_next_retry_name() -> None:
    arn = "arn:aws:states:us-east-1:1:execution:transcribe:calls_a-wav-abc123-0123456789"
    table = Table(
        {
            ("s3://archive/calls/a.wav", "abc123"): {
                "status": "FAILED",
                "reason_class": "internal",
                "execution_arn": arn,
            }
        }
    )
    decision = run(listed("calls/a.wav"), table)
    assert (decision.action, decision.outcome) == ("start", "retry")
    assert decision.name.endswith("-retry1")
    assert next_retry({"execution_arn": arn + "-retry2", "failed_execution_arn": arn + "-retry2"}) == 3


def test_a_claimed_row_and_a_zero_byte_object_are_started_the_per_file_workflow_decides() -> None:
    table = Table({("s3://archive/calls/a.wav", "abc123"): {"status": "CLAIMED"}})
    assert run(listed("calls/a.wav"), table).outcome == "start"
    assert run(listed("calls/empty.wav", size=0)).outcome == "start"  # recorded as ZeroByteObject


def test_a_dry_run_only_counts() -> None:
    dry = listed("calls/a.wav").model_copy(update={"dry_run": True})
    decision = run(dry)
    assert (decision.action, decision.outcome) == ("done", "would_start")
    assert decision.name is None and decision.input is None


def test_inventory_rows_are_url_decoded_and_old_versions_or_keys_outside_the_prefix_skipped() -> None:
    def row(**fields: str) -> BackfillItemRequest:
        item = {"Bucket": BUCKET, "Key": "calls/a+b%C3%A9.wav", "Size": "10", "ETag": "e1", **fields}
        return BackfillItemRequest(bucket=BUCKET, prefix="calls/", source="manifest", item=item)

    decision = run(row(VersionId="v1", IsLatest="true", IsDeleteMarker="false"))
    source = uploaded_object_from_event(decision.input)
    assert (source.key, source.version_id, source.size) == ("calls/a bé.wav", "v1", 10)
    assert run(row(IsLatest="false")).reason == "not_current"
    assert run(row(IsDeleteMarker="true")).reason == "not_current"
    assert run(row(Key="other/x.wav")).reason == "outside_prefix"


def test_the_summary_counts_outcomes_and_skip_reasons() -> None:
    results = (
        [{"outcome": "transcribed", "reason": None}] * 3
        + [{"outcome": "failed", "reason": None}]
        + [
            {"outcome": "already_started", "reason": None},
            {"outcome": "skipped", "reason": "transcribed"},
            {"outcome": "skipped", "reason": "ignored_suffix"},
            None,
        ]
    )
    summary = summarise(results)
    assert (summary.total, summary.started, summary.transcribed, summary.failed) == (8, 4, 3, 1)
    assert summary.already_started == 1 and summary.item_errors == 1
    assert summary.skipped == {"ignored_suffix": 1, "transcribed": 1}


RESULTS = "out"


def succeeded(outcome: str, reason: str | None = None) -> dict[str, Any]:
    """A SUCCEEDED ResultWriter entry as Step Functions writes it: the item's output as a JSON string."""
    return {
        "ExecutionArn": "arn:aws:states:us-east-1:1:execution:b/r:x",
        "Input": "{}",
        "InputDetails": {"Included": True},
        "Status": "SUCCEEDED",
        "Output": json.dumps({"outcome": outcome, "reason": reason}),
        "OutputDetails": {"Included": True},
    }


def put_results(s3: Any, files: dict[str, list[Any]], output_type: str = "JSONL") -> ResultWriterDetails:
    """Given result files (name -> entries, JSON Lines as the ASL's WriterConfig asks), the manifest
    ResultWriter writes listing them."""
    s3.create_bucket(Bucket=RESULTS)
    listing: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for name, entries in files.items():
        key = f"backfill-results/run/abc/{name}"
        s3.put_object(Bucket=RESULTS, Key=key, Body=encode_entries(entries, output_type))
        listing[name.split("_")[0]].append({"Key": key, "Size": 1})
    key = "backfill-results/run/abc/manifest.json"
    s3.put_object(
        Bucket=RESULTS,
        Key=key,
        Body=json.dumps(
            {"DestinationBucket": RESULTS, "MapRunArn": "arn:m", "ResultFiles": listing}
        ).encode(),
    )
    return ResultWriterDetails(Bucket=RESULTS, Key=key)


@mock_aws
def test_the_summary_is_read_file_by_file_from_the_result_writers_manifest() -> None:
    # Given two SUCCEEDED files and a FAILED file (an item whose backfill step failed, tolerated)
    s3 = boto3.client("s3", region_name="us-east-1")
    details = put_results(
        s3,
        {
            "SUCCEEDED_0.json": [succeeded("transcribed")] * 2 + [succeeded("skipped", "ignored_suffix")],
            "SUCCEEDED_1.json": [succeeded("already_started"), succeeded("failed")],
            "FAILED_0.json": [
                {
                    "ExecutionArn": "arn:x",
                    "Input": "{}",
                    "Status": "FAILED",
                    "Error": "Lambda.Unknown",
                    "Cause": "boom",
                }
            ],
        },
    )
    # When it is summarised
    summary = summarise(result_entries(s3, details), dry_run=False)
    # Then every entry of every file counts, the FAILED one as an item error
    assert (summary.total, summary.started, summary.transcribed, summary.failed) == (6, 3, 2, 1)
    assert (summary.already_started, summary.item_errors) == (1, 1)
    assert summary.skipped == {"ignored_suffix": 1}


@mock_aws
@pytest.mark.parametrize(
    "entry",
    [{"Status": "SUCCEEDED"}, {"Output": "{}"}, {"Status": "SUCCEEDED", "Output": "{"}, "not an entry"],
)
def test_a_malformed_result_entry_fails_the_summary_naming_the_file(entry: Any) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    details = put_results(s3, {"SUCCEEDED_0.json": [succeeded("transcribed"), entry]})
    with pytest.raises(MalformedResultError, match=r"SUCCEEDED_0\.json line 2"):
        summarise(result_entries(s3, details))


@mock_aws
def test_a_result_file_that_is_not_json_lines_fails_the_summary_rather_than_count_wrong() -> None:
    # Given a file written as one JSON array (a ResultWriter without the ASL's OutputType JSONL)
    s3 = boto3.client("s3", region_name="us-east-1")
    details = put_results(s3, {"SUCCEEDED_0.json": [succeeded("transcribed")] * 2}, output_type="JSON")
    # Then Summarise refuses it, naming the file and line, instead of counting it as something
    with pytest.raises(MalformedResultError, match=r"SUCCEEDED_0\.json line 1"):
        summarise(result_entries(s3, details))


def test_the_result_writer_writes_json_lines_under_a_static_prefix() -> None:
    # AWS writes under <Prefix>/<map run id>/ by itself: a static prefix, no States.Format on the name
    for name in ("BackfillPrefix", "BackfillManifest"):
        writer = ASL["States"][name]["ResultWriter"]
        assert writer["Parameters"] == {
            "Bucket": "${BackfillResultsBucket}",
            "Prefix": "${BackfillResultsPrefix}",
        }
        assert writer["WriterConfig"] == {"OutputType": "JSONL", "Transformation": "NONE"}


def test_a_summary_that_fails_is_recorded_typed() -> None:
    summarise_state = ASL["States"]["Summarise"]
    [catch] = summarise_state["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    failed = ASL["States"][catch["Next"]]
    assert failed["Type"] == "Fail" and failed["Error"] == "BackfillSummaryFailed"
    assert failed["CausePath"] == catch["ResultPath"] + ".Cause"


@mock_aws
def test_a_manifest_without_result_files_fails_the_summary() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=RESULTS)
    s3.put_object(Bucket=RESULTS, Key="m.json", Body=b'{"MapRunArn": "arn:m"}')
    with pytest.raises(MalformedResultError, match="no ResultFiles"):
        summarise(result_entries(s3, ResultWriterDetails(Bucket=RESULTS, Key="m.json")))


def test_the_summarise_request_names_the_result_writers_manifest() -> None:
    summarise_state = ASL["States"]["Summarise"]["Parameters"]
    assert summarise_state["result_writer.$"] == "$.map_run.ResultWriterDetails"
    request = BackfillSummaryRequest.model_validate(
        {"result_writer": {"Bucket": "b", "Key": "k/manifest.json"}, "dry_run": True}
    )
    assert request.result_writer.Key == "k/manifest.json"


def test_the_asl_outcomes_are_the_contracts_outcomes() -> None:
    from typing import get_args

    from pipeline.backfill import ItemOutcome

    processor = ASL["States"]["BackfillPrefix"]["ItemProcessor"]["States"]
    fixed = {
        s["Parameters"]["outcome"]
        for s in processor.values()
        if s["Type"] == "Pass" and "outcome" in s.get("Parameters", {})
    }
    assert fixed <= set(get_args(ItemOutcome))


def unprefixed(processor: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A processor with its state names' prefix taken off (in names, StartAt and every transition)."""
    text = json.dumps(processor)
    assert all(name.startswith(prefix) for name in processor["States"])
    for name in processor["States"]:
        text = text.replace(f'"{name}"', f'"{name.removeprefix(prefix)}"')
    return json.loads(text)


def test_both_readers_run_the_same_item_processor_under_their_own_state_names() -> None:
    # State names are unique across a machine (AWS refuses a repeat): each processor's are prefixed by
    # its reader (the ItemSelector's source), and otherwise the two are the same processor
    states = ASL["States"]
    listing = unprefixed(states["BackfillPrefix"]["ItemProcessor"], "Listing")
    manifest = unprefixed(states["BackfillManifest"]["ItemProcessor"], "Manifest")
    assert listing == manifest
    assert states["BackfillPrefix"]["ItemSelector"]["source"] == "listing"
    assert states["BackfillManifest"]["ItemSelector"]["source"] == "manifest"
