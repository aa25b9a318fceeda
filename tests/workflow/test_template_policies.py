"""Specifications of template.yaml's guarantees that no local execution can show.

IAM and retry behaviour matter on a real account; these tests read them from the template itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_emulator.aws import _lower_keys
from local_emulator.bridges import BatchAttempt, evaluate_on_exit
from local_emulator.template import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
JOB_DEFINITIONS = [lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::Batch::JobDefinition"]


def allow_statements() -> list[tuple[str, dict[str, Any]]]:
    """Every Allow statement of every IAM policy the template writes itself (roles and SAM Policies)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for lid, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        policies = [p for p in props.get("Policies", []) if isinstance(p, dict)]
        documents = [p["PolicyDocument"] for p in policies if "PolicyDocument" in p]
        documents += [p for p in policies if "Statement" in p]
        for document in documents:
            found += [(lid, s) for s in document["Statement"] if s["Effect"] == "Allow"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_service_actions_and_no_full_access_policies() -> None:
    for lid, statement in allow_statements():
        for action in as_list(statement["Action"]):
            assert not action.endswith(":*") and action != "*", (lid, action)
    assert "FullAccess" not in json.dumps(TEMPLATE)


def test_nothing_may_write_to_the_input_bucket() -> None:
    readers = []
    for lid, statement in allow_statements():
        if "InputBucket" not in json.dumps(statement.get("Resource", "")):
            continue
        actions = as_list(statement["Action"])
        assert all(a in {"s3:GetObject", "s3:GetObjectVersion"} for a in actions), (lid, actions)
        readers.append(lid)
    assert sorted(readers) == ["GpuJobRole", "ProbeAudioFunction"]


def test_buckets_block_public_access_encrypt_and_require_tls() -> None:
    for bucket in ("InputBucket", "OutputBucket"):
        props = RESOURCES[bucket]["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        [statement] = RESOURCES[f"{bucket}Policy"]["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_rule_target_has_a_dead_letter_queue() -> None:
    [target] = RESOURCES["UploadEventRule"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["UploadEventDeadLetterQueue", "Arn"]}


@pytest.mark.parametrize("job_definition", JOB_DEFINITIONS)
@pytest.mark.parametrize(("attempt", "action"), [
    (BatchAttempt(exit_code=None, status_reason="Host EC2 (instance i-0abc) terminated."), "retry"),
    (BatchAttempt(exit_code=65, status_reason="Essential container in task exited"), "exit"),
    (BatchAttempt(exit_code=70, status_reason="Essential container in task exited"), "exit"),
    (BatchAttempt(exit_code=137, status_reason="OutOfMemoryError: Container killed"), "exit"),
    (BatchAttempt(exit_code=None, status_reason="CannotPullContainerError: pull image manifest"), "exit"),
])
def test_jobs_retry_only_when_the_host_went_away(job_definition: str, attempt: BatchAttempt,
                                                action: str) -> None:
    strategy = _lower_keys(RESOURCES[job_definition]["Properties"]["RetryStrategy"])
    assert int(strategy["attempts"]) > 1
    assert evaluate_on_exit(strategy["evaluateOnExit"], attempt) == action


def test_without_a_catch_all_batch_would_retry_blindly() -> None:
    # AWS Batch retries when no EvaluateOnExit rule matches; the template's last rule prevents that.
    only_spot = [{"onStatusReason": "Host EC2*", "action": "RETRY"}]
    internal_error = BatchAttempt(exit_code=70, status_reason="Essential container in task exited")
    assert evaluate_on_exit(only_spot, internal_error) == "retry"
