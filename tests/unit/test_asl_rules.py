"""Specification of the States Language rules the emulator enforces before moto parses a definition
(local_emulator.asl_rules): what CreateStateMachine refuses must not run locally."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_emulator.asl_rules import InvalidDefinitionError, check_definition, definition_errors
from local_emulator.template import REPO_ROOT

MACHINES = sorted((REPO_ROOT / "statemachine").glob("*.asl.json"))


def backfill() -> dict[str, Any]:
    return json.loads((REPO_ROOT / "statemachine" / "backfill.asl.json").read_text())


def creatable(definition: dict[str, Any]) -> str:
    """The definition with its ``${...}`` substitutions filled with an ARN (what CreateStateMachine gets)."""
    return re.sub(r"\$\{\w+\}", "arn:aws:lambda:us-east-1:123456789012:function:f", json.dumps(definition))


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.name)
def test_the_repositorys_definitions_break_none_of_the_rules(path: Any) -> None:
    assert definition_errors(path.read_text()) == []


def test_a_state_name_repeated_in_another_map_processor_is_refused() -> None:
    # Given the backfill with a listing state renamed to a manifest state's name (the issue 22 deploy failure)
    asl = backfill()
    states = asl["States"]["BackfillPrefix"]["ItemProcessor"]["States"]
    states["ManifestNotStarted"] = states.pop("ListingNotStarted")
    states["ListingMustStart"]["Default"] = "ManifestNotStarted"
    # Then the rule names the repeated state
    assert definition_errors(asl) == [
        "state name 'ManifestNotStarted' is used 2 times (names are unique across the machine)"
    ]


def test_a_name_repeated_in_one_state_list_is_refused_although_json_keeps_only_one() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "A": {"Type": "Succeed"}}}'
    assert definition_errors(text) == [
        "key 'A' appears 2 times in one object (a state list holds each name once)"
    ]


def test_a_transition_out_of_its_processor_is_refused() -> None:
    asl = backfill()
    states = asl["States"]["BackfillManifest"]["ItemProcessor"]["States"]
    states["ManifestDecide"]["Next"] = "Summarise"  # a top-level state: not reachable from a processor
    [error] = definition_errors(asl)
    assert "/BackfillManifest/ManifestDecide: Next 'Summarise' is not a state of this list" in error


def test_the_local_stack_refuses_a_definition_the_service_refuses() -> None:
    # Given moto's Step Functions interpreter with the emulator's bridges (what every local stack runs)
    from local_emulator.bridges import bridged
    from local_emulator.stack import MOTO_CONFIG

    broken = backfill()
    broken["States"]["BackfillPrefix"]["ItemProcessor"] = copy.deepcopy(
        broken["States"]["BackfillManifest"]["ItemProcessor"]
    )  # the same names under both readers
    with pytest.raises(InvalidDefinitionError) as refusal:
        check_definition(broken, "backfill")
    with mock_aws(config=MOTO_CONFIG), bridged(job_runner=lambda command, env: 0):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        role = "arn:aws:iam::123456789012:role/local"
        # Then CreateStateMachine refuses it, as AWS does (moto's InvalidDefinition carries no error
        # code over HTTP, only its message), naming the repeated states
        with pytest.raises(ClientError, match=r"CreateStateMachine.*ManifestDecide' is used 2 times"):
            sfn.create_state_machine(name="broken", definition=creatable(broken), roleArn=role)
        # and the definition as committed is accepted
        sfn.create_state_machine(name="backfill", definition=creatable(backfill()), roleArn=role)
    assert "ManifestDecide" in str(refusal.value)
