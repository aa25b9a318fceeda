"""Specification of template.yaml's search part: the partitioned segments table, the Athena workgroup
with its scan cutoff and results bucket, and the names `parakeet search` reads from the outputs.

Athena is not emulated (moto runs no query): what a real account enforces is read from the template;
the Glue table as the local stack creates it is read back from moto's Glue.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws
from pipeline.exact_upload import segments_uri
from pipeline.segments import COLUMNS

from local_emulator.aws import deploy
from local_emulator.template import REGION, load_template
from parakeet_cli import search

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
PARAMETERS: dict[str, dict[str, Any]] = TEMPLATE["Parameters"]
TABLE = RESOURCES["SegmentsTable"]["Properties"]["TableInput"]
WORKGROUP = RESOURCES["SearchWorkGroup"]["Properties"]


def test_the_segments_table_has_the_columns_postprocess_writes_and_is_partitioned_by_day() -> None:
    columns = [(c["Name"], c["Type"]) for c in TABLE["StorageDescriptor"]["Columns"]]
    assert columns == list(COLUMNS)
    assert ("transcribed_at", "string") in columns
    # dt is the folder, not a column of the files
    assert TABLE["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    assert "dt" not in dict(COLUMNS)


def test_partition_projection_computes_the_days_so_a_since_filter_reads_only_those_folders() -> None:
    parameters = TABLE["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert (parameters["projection.dt.type"], parameters["projection.dt.format"]) == ("date", "yyyy-MM-dd")
    assert (parameters["projection.dt.interval"], parameters["projection.dt.interval.unit"]) == ("1", "DAYS")
    assert parameters["projection.dt.range"] == {"Fn::Sub": "${SearchFirstDate},NOW"}
    assert PARAMETERS["SearchFirstDate"]["AllowedPattern"] == "^\\d{4}-\\d{2}-\\d{2}$"
    # ${!dt} is CloudFormation's escape: Glue receives the literal ${dt} that Athena fills in
    assert parameters["storage.location.template"] == {"Fn::Sub": "s3://${OutputBucket}/segments/dt=${!dt}/"}


def test_the_local_stack_creates_the_table_where_postprocess_writes() -> None:
    with mock_aws():
        deployment = deploy()
        database = deployment.ref("SegmentsDatabase")
        table = boto3.client("glue", region_name=REGION).get_table(DatabaseName=database, Name="segments")
    table_input = table["Table"]
    template = table_input["Parameters"]["storage.location.template"]
    bucket = deployment.output_bucket
    assert template == f"s3://{bucket}/segments/dt=${{dt}}/"
    assert [k["Name"] for k in table_input["PartitionKeys"]] == ["dt"]
    # And the file postprocess writes for a transcription on a day lies in that day's folder
    written = segments_uri(bucket, "calls/a.wav", "2026-12-02T10:00:00.000Z")
    assert written.startswith(template.replace("${dt}", "2026-12-02"))


def test_the_search_workgroup_enforces_its_scan_cutoff_and_encrypted_results() -> None:
    configuration = WORKGROUP["WorkGroupConfiguration"]
    # the client cannot override the workgroup's settings (results place, encryption, cutoff)
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "SearchBytesScannedCutoffPerQuery"}
    cutoff = PARAMETERS["SearchBytesScannedCutoffPerQuery"]
    assert cutoff["MinValue"] == 10_000_000  # Athena's minimum
    assert cutoff["MinValue"] <= cutoff["Default"] <= 100 * 2**30
    results = configuration["ResultConfiguration"]
    assert results["OutputLocation"] == {"Fn::Sub": "s3://${SearchResultsBucket}/results/"}
    assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert configuration["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    assert WORKGROUP["RecursiveDeleteOption"] is True  # deleting the stack deletes its query history


def test_query_results_are_encrypted_and_expire() -> None:
    props = RESOURCES["SearchResultsBucket"]["Properties"]
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    [expire] = [r for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert expire["Status"] == "Enabled"
    assert expire["ExpirationInDays"] == {"Ref": "SearchResultsRetentionDays"}
    assert PARAMETERS["SearchResultsRetentionDays"]["MinValue"] >= 1


def test_the_outputs_name_what_parakeet_search_reads() -> None:
    outputs = TEMPLATE["Outputs"]
    assert outputs[search.WORKGROUP_OUTPUT]["Value"] == {"Ref": "SearchWorkGroup"}
    assert outputs[search.SEGMENTS_TABLE_OUTPUT]["Value"] == {"Fn::Sub": "${SegmentsDatabase}.segments"}
    assert outputs["SearchQueryPolicyArn"]["Value"] == {"Ref": "SearchQueryPolicy"}
    assert "segments/dt=<UTC date>/<key>.jsonl" in outputs["OutputBucketName"]["Description"]


def test_postprocess_may_write_the_day_folders_and_nothing_else_of_the_bucket() -> None:
    [policy] = RESOURCES["PostprocessFunction"]["Properties"]["Policies"]
    [put] = [s for s in policy["Statement"] if s["Action"] == "s3:PutObject"]
    assert put["Resource"] == [
        {"Fn::Sub": "${OutputBucket.Arn}/transcripts/*"},
        {"Fn::Sub": "${OutputBucket.Arn}/segments/*"},
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_search_policy_grants_only_the_search_calls_on_this_stacks_resources() -> None:
    statements = RESOURCES["SearchQueryPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert all("*" not in a for a in actions)
    assert {a.split(":")[0] for a in actions} == {"cloudformation", "athena", "glue", "s3"}
    assert not {"s3:DeleteObject", "glue:CreateTable", "glue:UpdateTable"} & actions
    for statement in statements:
        # every resource is named (a key pattern below a bucket or prefix is the only wildcard)
        resources = json.dumps(statement["Resource"]).replace("/*", "")
        assert statement["Effect"] == "Allow" and "*" not in resources
    [athena] = [s for s in statements if s["Sid"] == "QueryInTheSearchWorkGroup"]
    assert "workgroup/${SearchWorkGroup}" in athena["Resource"]["Fn::Sub"]
    [segments] = [s for s in statements if s["Sid"] == "ReadTheSegmentFiles"]
    assert segments["Action"] == "s3:GetObject"
    assert segments["Resource"] == {"Fn::Sub": "${OutputBucket.Arn}/segments/*"}
