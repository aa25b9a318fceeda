"""Specification of benchmarks/asl_walk: the states one execution enters, read from the ASL itself."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from asl_walk import matches, walk  # noqa: E402

ASL = json.loads((ROOT / "statemachine" / "transcribe.asl.json").read_text(encoding="utf-8"))
CLAIMED = {"claim": {"claimed": True}, "plan": {"path": "job"}}


def names(steps) -> list[str]:
    return [s.name for s in steps]


def test_the_success_path_of_the_real_definition_starts_at_claim_and_ends_at_a_terminal_state() -> None:
    path = walk(ASL, CLAIMED)
    assert path[0].name == ASL["StartAt"] == "Claim"
    last = ASL["States"][path[-1].name]
    assert last.get("End") is True or last["Type"] == "Succeed"
    assert {"Probe", "Plan", "Postprocess", "Index"} <= set(names(path))
    assert "RecordFailure" not in names(path)


def test_a_duplicate_ends_at_the_choice_branch_it_takes() -> None:
    assert names(walk(ASL, {"claim": {"claimed": False}}))[-1] == "AlreadyClaimed"


def test_a_failing_task_leaves_through_its_catch_to_the_fail_state() -> None:
    path = names(walk(ASL, CLAIMED, fail_at="Probe"))
    assert path[path.index("Probe") + 1] == "RecordFailure"
    assert ASL["States"][path[-1]]["Type"] == "Fail"
    assert "Plan" not in path


def test_an_added_state_changes_the_count_without_editing_the_walker() -> None:
    # Given a copy of the definition with a Pass state inserted after Plan, then one more transition.
    extended = json.loads(json.dumps(ASL))
    plan = extended["States"]["Plan"]
    extended["States"]["Extra"] = {"Type": "Pass", "Next": plan["Next"]}
    plan["Next"] = "Extra"
    assert len(walk(extended, CLAIMED)) == len(walk(ASL, CLAIMED)) + 1


def test_a_branch_chosen_by_the_plan_is_followed() -> None:
    definition = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.plan.path", "StringEquals": "pool", "Next": "Pool"}],
                "Default": "Job",
            },
            "Pool": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Next": "Done",
            },
            "Job": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    assert names(walk(definition, {"plan": {"path": "pool"}})) == ["Route", "Pool", "Done"]
    assert names(walk(definition, {"plan": {"path": "job"}})) == ["Route", "Job", "Done"]


def test_parallel_branches_and_map_iterations_are_walked_in() -> None:
    inner = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "Branches": [inner, inner], "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": inner, "End": True},
        },
    }
    assert names(walk(definition, {}, map_items=3)) == ["P", "A", "A", "M", "A", "A", "A"]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.n", "NumericGreaterThan": 5}, True),
        ({"Variable": "$.n", "NumericLessThanEquals": 5}, False),
        ({"Variable": "$.s", "StringMatches": "po*"}, True),
        ({"Variable": "$.missing", "IsPresent": False}, True),
        ({"Variable": "$.missing", "StringEquals": "x"}, False),
        (
            {
                "And": [
                    {"Variable": "$.b", "BooleanEquals": True},
                    {"Not": {"Variable": "$.n", "NumericEquals": 1}},
                ]
            },
            True,
        ),
        (
            {
                "Or": [
                    {"Variable": "$.b", "BooleanEquals": False},
                    {"Variable": "$.n", "NumericEqualsPath": "$.n"},
                ]
            },
            True,
        ),
        ({"Variable": "$.b", "NumericEquals": 1}, False),
    ],
)
def test_choice_rules(rule, expected) -> None:
    assert matches(rule, {"n": 7, "s": "pool", "b": True}) is expected


def test_an_unknown_operator_is_an_error_not_a_silent_false() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        matches({"Variable": "$.n", "NumericRoughly": 7}, {"n": 7})
