"""The permission map as a specification: every AWS call the code makes, and every service integration
the state machines use, is granted to the role that makes it, in the template as it deploys.

moto enforces no IAM, so a missing grant shows first on a real account, as AccessDenied. The needs are
recomputed from the source (tests/permission_map.py: boto3 calls reached from each role's entry points;
the ASL's integrations, substitutions applied); the grants are read from the rendered template
(scripts/render_template.py: SAM's policy templates expanded, as IAM receives them). What a boto3 call
acts on is data, so ``RESOURCES`` below writes it down per role and action, as a sample ARN the grant
must cover; a new call the map does not know fails, and so does a grant that no longer covers it.
"""

from __future__ import annotations

import copy
import fnmatch
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from local_emulator.rendered import definitions, resolver, role_statements
from local_emulator.template import REPO_ROOT
from tests.permission_map import Need, Scan, integration_needs, source_files

# Sample resources, in template terms (resolved with the rendering's placeholders): an upload, its outputs.
UPLOAD = "${InputBucket.Arn}/calls/2026/a.wav"
TRANSCRIPT = "${OutputBucket.Arn}/transcripts/calls/2026/a.wav/transcript.json"
ERROR = "${OutputBucket.Arn}/transcripts/calls/2026/a.wav/error.json"
SEGMENTS = "${OutputBucket.Arn}/segments/calls/2026/a.wav.jsonl"
RESULTS = "${OutputBucket.Arn}/backfill-results/0f1e/manifest.json"
VOCABULARY = "${OutputBucket.Arn}/vocabularies/support.txt"  # docs/VOCABULARY.md
TABLE = "${CatalogTable.Arn}"
BUS = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"
ANY = "*"  # actions IAM authorises on no resource (ListJobs, task tokens)

# (role, IAM action) -> what the role's code calls it on. One line per pair the code needs.
RESOURCES: dict[tuple[str, str], list[str]] = {
    ("StartExecutionFunctionRole", "states:StartExecution"): ["${TranscribeStateMachine}"],
    ("ClaimSourceFunctionRole", "dynamodb:PutItem"): [TABLE],
    ("ClaimSourceFunctionRole", "dynamodb:UpdateItem"): [TABLE],
    # HeadObject: the upload, and who owns its outputs
    ("ClaimSourceFunctionRole", "s3:GetObject"): [UPLOAD, TRANSCRIPT],
    ("ProbeAudioFunctionRole", "s3:GetObject"): [UPLOAD, VOCABULARY],  # ranged reads; the vocabulary
    ("ProbeAudioFunctionRole", "s3:GetObjectVersion"): [UPLOAD],
    ("ProbeAudioFunctionRole", "s3:GetObjectTagging"): [UPLOAD],  # per-upload settings
    ("ProbeAudioFunctionRole", "s3:GetObjectVersionTagging"): [UPLOAD],
    ("ProbeAudioFunctionRole", "s3:RestoreObject"): [UPLOAD],  # a cold upload, RestoreArchived on
    ("PostprocessFunctionRole", "s3:GetObject"): [TRANSCRIPT, UPLOAD],
    ("PostprocessFunctionRole", "s3:PutObject"): [TRANSCRIPT.replace("transcript.json", "a.srt"), SEGMENTS],
    ("PostprocessFunctionRole", "s3:DeleteObject"): [ERROR],  # a stale error.json of an earlier attempt
    ("IndexTranscriptFunctionRole", "dynamodb:UpdateItem"): [TABLE],
    ("IndexTranscriptFunctionRole", "events:PutEvents"): [BUS],
    ("IndexTranscriptFunctionRole", "s3:GetObject"): [UPLOAD],  # still the current upload?
    ("RestoreSweepFunctionRole", "dynamodb:Query"): ["${CatalogTable.Arn}/index/by-status"],  # RESTORING rows
    ("RestoreSweepFunctionRole", "dynamodb:UpdateItem"): [TABLE],
    ("RestoreSweepFunctionRole", "events:PutEvents"): [BUS],
    ("RestoreSweepFunctionRole", "s3:GetObject"): [UPLOAD],  # HeadObject: does the key still hold it?
    ("RecordFailureFunctionRole", "dynamodb:GetItem"): [TABLE],
    ("RecordFailureFunctionRole", "dynamodb:UpdateItem"): [TABLE],
    ("RecordFailureFunctionRole", "events:PutEvents"): [BUS],
    ("RecordFailureFunctionRole", "s3:GetObject"): [ERROR, UPLOAD],
    ("BackfillItemFunctionRole", "dynamodb:GetItem"): [TABLE],
    ("BackfillItemFunctionRole", "dynamodb:UpdateItem"): [TABLE],  # a restoring run's caps
    ("BackfillItemFunctionRole", "s3:GetObject"): [UPLOAD],  # HeadObject: an Intelligent-Tiering tier
    ("BackfillItemFunctionRole", "s3:GetObjectVersion"): [UPLOAD],
    ("BackfillItemFunctionRole", "s3:RestoreObject"): [UPLOAD],  # a run with `restore`
    ("BackfillSummaryFunctionRole", "s3:GetObject"): [RESULTS],
    ("ScalePoolFunctionRole", "sqs:GetQueueAttributes"): ["${PoolQueue.Arn}"],
    ("ScalePoolFunctionRole", "batch:ListJobs"): [ANY],
    ("ScalePoolFunctionRole", "batch:SubmitJob"): ["${PoolJobQueue}", "${PoolWorkerJobDefinition}"],
    ("ScalePoolFunctionRole", "dynamodb:PutItem"): ["${PoolScalerLeaseTable.Arn}"],
    ("ScalePoolFunctionRole", "dynamodb:DeleteItem"): ["${PoolScalerLeaseTable.Arn}"],
    ("ScalePoolFunctionRole", "sqs:ReceiveMessage"): ["${PoolDeadLetterQueue.Arn}"],
    ("ScalePoolFunctionRole", "states:SendTaskFailure"): [ANY],
    ("GpuJobRole", "s3:GetObject"): [UPLOAD, TRANSCRIPT, VOCABULARY],
    ("GpuJobRole", "s3:GetObjectVersion"): [UPLOAD, VOCABULARY],
    ("GpuJobRole", "s3:PutObject"): [TRANSCRIPT],
    ("PoolWorkerRole", "s3:GetObject"): [UPLOAD, TRANSCRIPT, VOCABULARY],
    ("PoolWorkerRole", "s3:GetObjectVersion"): [UPLOAD, VOCABULARY],
    ("PoolWorkerRole", "s3:PutObject"): [TRANSCRIPT],
    ("PoolWorkerRole", "sqs:ReceiveMessage"): ["${PoolQueue.Arn}"],
    ("PoolWorkerRole", "sqs:DeleteMessage"): ["${PoolQueue.Arn}"],
    ("PoolWorkerRole", "sqs:ChangeMessageVisibility"): ["${PoolQueue.Arn}"],
    ("PoolWorkerRole", "states:SendTaskSuccess"): [ANY],
    ("PoolWorkerRole", "states:SendTaskFailure"): [ANY],
    ("PoolWorkerRole", "states:SendTaskHeartbeat"): [ANY],
}
# The Batch jobs' entry points (the job definitions' command: `python -m gpu_job ...`); the per-file job
# never takes the pool branch of main, which is the pool worker's.
JOB_ENTRIES = {
    "GpuJobRole": (["gpu_job/cli.py:main"], ["gpu_job/pool/cli.py"]),
    "PoolWorkerRole": (["gpu_job/pool/cli.py:main"], []),
}
# What the image ships beside gpu_job/ (gpu_job/Dockerfile: the shared core packages).
IMAGE_SOURCES = ("gpu_job", "functions/pipeline")
# ASL parameters given at run time ("X.$"): what they may name.
DYNAMIC = {
    "TranscribeStateMachine": {
        "Transcribe.JobQueue": ["${JobQueueSMALL}", "${JobQueueMEDIUM}", "${JobQueueLARGE}"],
        "Transcribe.JobDefinition": ["${GpuJobDefinition}"],
    },
    "BackfillStateMachine": {
        "BackfillPrefix.ItemReader.Bucket": "${InputBucket}",
        # the inventory bucket is granted only when BackfillInventoryBucket is set (a template condition;
        # tests/workflow/test_template_policies.py holds that statement to the ItemReader)
        "BackfillManifest.ItemReader.Bucket": None,
    },
}


@pytest.fixture(scope="module")
def rendered(rendered_template: dict[str, Any]) -> dict[str, Any]:
    return rendered_template


def lambda_entries(rendered: dict[str, Any]) -> dict[str, list[str]]:
    """Role logical id -> its functions' handlers, as scan entry points."""
    entries: dict[str, list[str]] = {}
    for resource in rendered["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            props = resource["Properties"]
            module, function = props["Handler"].rsplit(".", 1)
            entries.setdefault(props["Role"]["Fn::GetAtt"][0], []).append(
                f"functions/{module.replace('.', '/')}.py:{function}"
            )
    return entries


def code_needs(rendered: dict[str, Any], root: Path = REPO_ROOT) -> dict[str, set[Need]]:
    """Role -> what its code calls (boto3), from the source under ``root``."""
    needs: dict[str, set[Need]] = {}
    functions = Scan(source_files("functions", root=root), root=root)
    for role, entries in lambda_entries(rendered).items():
        needs[role] = set(functions.needs(functions.reachable(entries)))
    image = Scan(source_files(*IMAGE_SOURCES, root=root), root=root)
    for role, (entries, excluded) in JOB_ENTRIES.items():
        needs[role] = set(image.needs(image.reachable(entries, excluded)))
    return needs


def granted(statements: Iterable[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement covers (action, resource), IAM wildcards as IAM reads them, and no
    Deny statement of the role takes it back."""

    def covers(statement: dict[str, Any]) -> bool:
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = actions if isinstance(actions, list) else [actions]
        resources = resources if isinstance(resources, list) else [resources]
        return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        )

    statements = list(statements)
    return any(s["Effect"] == "Allow" and covers(s) for s in statements) and not any(
        s["Effect"] == "Deny" and covers(s) for s in statements
    )


def problems(
    rendered: dict[str, Any], root: Path = REPO_ROOT, resources: dict[tuple[str, str], list[str]] = RESOURCES
) -> list[str]:
    """Every need the template does not grant, and every need the map does not know (empty: all granted)."""
    resolve = resolver(rendered)
    statements = role_statements(rendered)
    found: list[str] = []
    needs = code_needs(rendered, root)
    derived = {(role, n.action) for role, of_role in needs.items() for n in of_role}
    for role, action in sorted(derived - set(resources)):
        where = sorted(n.where for n in needs[role] if n.action == action)
        found.append(f"{role} needs {action} ({', '.join(where)}): add what it acts on to RESOURCES")
    for role, action in sorted(set(resources) - derived):
        found.append(f"{role} {action} is in RESOURCES but no code of the role calls it any more")
    for (role, action), samples in sorted(resources.items()):
        for sample in samples:
            arn = sample if sample == ANY else resolve.resolve({"Fn::Sub": sample})
            if not granted(statements.get(role, []), action, arn):
                found.append(f"{role} is not granted {action} on {arn}")
    machines = definitions(rendered)
    for machine, definition in machines.items():
        role = rendered["Resources"][machine]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        arn = resolve.resolve({"Ref": machine})
        dynamic = {
            k: (
                v
                if v is None
                else [resolve.resolve({"Fn::Sub": s}) for s in (v if isinstance(v, list) else [v])]
            )
            for k, v in DYNAMIC.get(machine, {}).items()
        }
        for need in integration_needs(machine, definition, arn, {k: _names(v) for k, v in dynamic.items()}):
            if not granted(statements.get(role, []), need.action, str(need.resource)):
                found.append(f"{role} is not granted {need.action} on {need.resource} ({need.where})")
    return found


def _names(values: list[str] | None) -> list[str] | str | None:
    """A bucket is named by the ItemReader, a queue or job definition by its ARN: as given."""
    if values is None:
        return None
    return values if len(values) > 1 else values[0]


def test_every_call_the_code_makes_and_every_integration_is_granted(rendered: dict[str, Any]) -> None:
    assert problems(rendered) == []


def test_the_scan_types_every_client_it_reaches(rendered: dict[str, Any]) -> None:
    # A receiver the scan cannot type (a client passed some way it does not follow) would hide its calls
    functions = Scan(source_files("functions"))
    reached = [f for entries in lambda_entries(rendered).values() for f in functions.reachable(entries)]
    assert functions.untyped(reached) == []
    image = Scan(source_files(*IMAGE_SOURCES))
    for entries, excluded in JOB_ENTRIES.values():
        assert image.untyped(image.reachable(entries, excluded)) == []


def test_the_map_knows_each_roles_calls_by_their_iam_names(rendered: dict[str, Any]) -> None:
    # The scan reads what the code calls: HeadObject is s3:GetObject, a call that may pin a VersionId
    # needs GetObjectVersion, a callable passed on (pool_answers' send_task_*) counts as a call
    needs = code_needs(rendered)
    actions = {role: {n.action for n in of_role} for role, of_role in needs.items()}
    assert actions["BackfillItemFunctionRole"] == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:RestoreObject",
    }
    assert actions["BackfillSummaryFunctionRole"] == {"s3:GetObject"}
    assert actions["PlanJobFunctionRole"] == set()
    pool = actions["PoolWorkerRole"]
    assert {"s3:GetObjectVersion", "states:SendTaskSuccess", "sqs:ChangeMessageVisibility"} <= pool
    assert not {a for a in actions["GpuJobRole"] if a.startswith(("sqs:", "states:"))}


def test_a_new_call_without_a_grant_fails(rendered: dict[str, Any], tmp_path: Path) -> None:
    # Given a copy of the code where Summarise also deletes what it read
    for folder in ("functions", "gpu_job"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    summary = tmp_path / "functions" / "backfill_item" / "summary.py"
    text = summary.read_text()
    read = '    body = s3.get_object(Bucket=bucket, Key=key)["Body"]'
    assert read in text
    summary.write_text(text.replace(read, read + "\n    s3.delete_object(Bucket=bucket, Key=key)"))
    # Then the map finds the call and asks where it acts, and once told, finds no grant for it
    [unknown] = problems(rendered, root=tmp_path)
    assert unknown.startswith(
        "BackfillSummaryFunctionRole needs s3:DeleteObject (functions/backfill_item/summary.py:"
    )
    told = {**RESOURCES, ("BackfillSummaryFunctionRole", "s3:DeleteObject"): [RESULTS]}
    assert problems(rendered, root=tmp_path, resources=told) == [
        "BackfillSummaryFunctionRole is not granted s3:DeleteObject on "
        "arn:aws:s3:::stack-OutputBucket/backfill-results/0f1e/manifest.json"
    ]


def test_removing_a_grant_the_code_needs_fails(rendered: dict[str, Any]) -> None:
    # Given the template without Decide's catalog read
    mutated = copy.deepcopy(rendered)
    [policy, *_] = mutated["Resources"]["BackfillItemFunctionRole"]["Properties"]["Policies"]
    policy["PolicyDocument"]["Statement"] = [
        s for s in policy["PolicyDocument"]["Statement"] if s["Action"] != "dynamodb:GetItem"
    ]
    assert problems(mutated) == [
        "BackfillItemFunctionRole is not granted dynamodb:GetItem on "
        "arn:aws:dynamodb:us-east-1:123456789012:table/stack-CatalogTable"
    ]


def test_removing_a_grant_an_integration_needs_fails(rendered: dict[str, Any]) -> None:
    # Given the backfill machine without the ResultWriter's multipart clean-up
    mutated = copy.deepcopy(rendered)
    for policy in mutated["Resources"]["BackfillStateMachineRole"]["Properties"]["Policies"]:
        for statement in policy.get("PolicyDocument", {}).get("Statement", []):  # (not the Fn::If one)
            if isinstance(statement["Action"], list) and "s3:AbortMultipartUpload" in statement["Action"]:
                statement["Action"] = [a for a in statement["Action"] if a != "s3:AbortMultipartUpload"]
    found = problems(mutated)
    assert found
    assert all("s3:AbortMultipartUpload" in line and "BackfillStateMachineRole" in line for line in found)
    assert {line.rsplit("(", 1)[-1] for line in found} == {
        "BackfillStateMachine:BackfillPrefix)",
        "BackfillStateMachine:BackfillManifest)",
    }
