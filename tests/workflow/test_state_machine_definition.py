"""Specification of statemachine/transcribe.asl.json against docs/CONTRACTS.md and template.yaml.

These are static checks that complement the executions under moto: they pin the rules that the
executed paths cannot all reach (every task's Catch, which errors may be retried).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from local_emulator.template import REPO_ROOT, load_template

ASL_PATH = REPO_ROOT / "statemachine" / "transcribe.asl.json"
TRANSIENT_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
    # Batch.ServerException: SubmitJob's HTTP 500 (issue 22), a service fault worth another try
    "Batch.AWSBatchException",
    "Batch.ServerException",
    "Batch.TooManyRequestsException",
}
# A pool task unanswered within its TimeoutSeconds (moto names a heartbeat timeout States.Timeout too).
POOL_TIMEOUTS = {"States.HeartbeatTimeout", "States.Timeout"}


@pytest.fixture(scope="module")
def asl() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text())


def tasks(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in asl["States"].items() if s["Type"] == "Task"}


def test_states_follow_the_contract(asl: dict[str, Any]) -> None:
    assert asl["StartAt"] == "Claim"
    states = asl["States"]
    assert states["Claim"]["Next"] == "IsClaimed"
    assert states["IsClaimed"]["Default"] == "Probe"
    for current, following in itertools.pairwise(["Probe", "Plan", "ChoosePath"]):
        assert states[current]["Next"] == following
    # Long files: their own Batch job; short ones: the pool (scaled first), both into Postprocess
    [to_pool] = states["ChoosePath"]["Choices"]
    assert (to_pool["Variable"], to_pool["StringEquals"]) == ("$.plan.path", "pool")
    assert to_pool["Next"] == "ScalePool"
    assert states["ChoosePath"]["Default"] == "Transcribe"
    for current, following in itertools.pairwise(["ScalePool", "TranscribeInPool", "Postprocess", "Index"]):
        assert states[current]["Next"] == following
    assert states["Transcribe"]["Next"] == "Postprocess"
    assert states["Index"]["End"] is True
    assert states["Transcribe"]["Resource"] == "arn:aws:states:::batch:submitJob.sync"


def test_the_own_job_task_retries_batch_server_faults_and_is_bounded(asl: dict[str, Any]) -> None:
    state = asl["States"]["Transcribe"]
    [retry] = state["Retry"]
    assert "Batch.ServerException" in retry["ErrorEquals"]
    # Backstop over the queue's RUNNABLE bound (RunnableTimeoutSeconds <= 86400) and 3 attempts of 21600 s
    job_definition = load_template()["Resources"]["GpuJobDefinition"]["Properties"]
    attempt_s = job_definition["Timeout"]["AttemptDurationSeconds"]
    assert state["TimeoutSeconds"] >= 3 * (86400 + attempt_s)


def test_every_task_records_its_failure(asl: dict[str, Any]) -> None:
    for name, state in tasks(asl).items():
        *specific, catch_all = state["Catch"]
        assert catch_all["ErrorEquals"] == ["States.ALL"], name
        if name == "ScalePool":
            continue  # best effort: the one task whose failure fails no file (next test)
        expected = "Failed" if name in ("RecordFailure", "RecordSuperseded") else "RecordFailure"
        assert catch_all["Next"] == expected, name
        # A specific catch only names the reason, then records it like every other failure; a superseded
        # upload is recorded by RecordSuperseded (RecordFailure's function, told the outcome)
        for catch in specific:
            if catch["ErrorEquals"] == ["SourceSuperseded"]:
                assert catch["Next"] == "RecordSuperseded", name
                continue
            assert asl["States"][catch["Next"]]["Next"] == "RecordFailure", name


def test_scaling_is_best_effort_its_failure_goes_on_to_the_pool_never_to_record_failure(
    asl: dict[str, Any],
) -> None:
    # A throttled or failed scaler (issue 22) must not fail the file: the schedule scales for it
    state = asl["States"]["ScalePool"]
    assert "Retry" not in state  # a retry would only delay the file
    [catch_all] = state["Catch"]
    skipped = asl["States"][catch_all["Next"]]
    assert (skipped["Type"], skipped["Next"]) == ("Pass", "TranscribeInPool")
    assert catch_all["ResultPath"] != skipped["ResultPath"] == state["ResultPath"]


def test_the_pool_task_has_no_heartbeat_clock_and_ends_typed_when_nobody_answers(asl: dict[str, Any]) -> None:
    state = asl["States"]["TranscribeInPool"]
    assert state["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    # A heartbeat clock starts when the message is queued: a backlog would fail its tail (issue 22).
    # Liveness is the message's SQS visibility, which starts when a worker takes it; nothing is retried
    assert "HeartbeatSeconds" not in state and "HeartbeatSecondsPath" not in state and "Retry" not in state
    assert state["TimeoutSeconds"] > 0  # the bound on queue wait and work together
    lost, timed_out, superseded, _ = state["Catch"]
    assert superseded["ErrorEquals"] == ["SourceSuperseded"]  # a worker answers a replaced upload by name
    # The scaler answers a dead-lettered message's token with pool.worker_lost (scale_pool.dead_letters)
    assert lost["ErrorEquals"] == ["pool.worker_lost"]
    assert asl["States"][lost["Next"]]["Parameters"]["Error"] == "pool.worker_lost"
    assert set(timed_out["ErrorEquals"]) == POOL_TIMEOUTS
    assert asl["States"][timed_out["Next"]]["Parameters"]["Error"] == "CapacityUnavailable"
    # The message is a PoolTask: the token, the plan's request, the execution and the attempt
    body = state["Parameters"]["MessageBody"]
    assert body["task_token.$"] == "$$.Task.Token"
    assert body["request.$"] == "$.plan.request"
    assert state["Parameters"]["QueueUrl"] == "${PoolQueueUrl}"


def test_only_transient_errors_are_retried(asl: dict[str, Any]) -> None:
    for name, state in tasks(asl).items():
        retried = {error for rule in state.get("Retry", []) for error in rule["ErrorEquals"]}
        allowed = TRANSIENT_ERRORS
        assert retried <= allowed, (name, retried - allowed)


def test_every_placeholder_is_a_template_substitution() -> None:
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text()))
    machine = load_template()["Resources"]["TranscribeStateMachine"]["Properties"]
    assert machine["DefinitionUri"] == "statemachine/transcribe.asl.json"
    assert placeholders == set(machine["DefinitionSubstitutions"])


def test_definition_passes_cfn_lint_state_machine_rules(asl: dict[str, Any]) -> None:
    """The same ASL schema checks (E3601) that cfn-lint applies to inline definitions on AWS templates."""
    import cfnlint.api

    substitutions = {
        name: "arn:aws:lambda:us-east-1:123456789012:function:f"
        for name in re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text())
    }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/sfn",
                    "Definition": asl,
                    "DefinitionSubstitutions": substitutions,
                },
            }
        },
    }
    problems = [str(m) for m in cfnlint.api.lint_all(json.dumps(template)) if m.rule.id[0] in "EW"]
    assert problems == []
