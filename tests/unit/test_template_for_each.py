"""Specifications of the local emulator's Fn::ForEach expansion (AWS::LanguageExtensions).

CloudFormation expands the loops before the SAM transform runs; the emulator must produce the same
resources from the same template, or local runs and deployments would disagree on what exists.
"""

from __future__ import annotations

from typing import Any

import pytest

from local_emulator.template import Resolver, expand_for_each, load_template, read_template


def loop(identifier: str, collection: Any, body: dict[str, Any]) -> list[Any]:
    return [identifier, collection, body]


def test_a_loop_writes_one_entry_per_item_with_the_identifier_substituted() -> None:
    template = {
        "Resources": {
            "Fn::ForEach::Queues": loop(
                "Class",
                ["SMALL", "LARGE"],
                {
                    "JobQueue${Class}": {
                        "Type": "AWS::Batch::JobQueue",
                        "Properties": {
                            "JobQueueName": {"Fn::Sub": "${AWS::StackName}-${Class}"},
                            "Tags": {"Class": {"Ref": "Class"}},
                        },
                    },
                },
            )
        }
    }

    resources = expand_for_each(template, {})["Resources"]

    assert sorted(resources) == ["JobQueueLARGE", "JobQueueSMALL"]
    # ${Class} is replaced, ${AWS::StackName} is left for Fn::Sub; Ref to the identifier is its value
    assert resources["JobQueueSMALL"]["Properties"] == {
        "JobQueueName": {"Fn::Sub": "${AWS::StackName}-SMALL"},
        "Tags": {"Class": "SMALL"},
    }


def test_a_sub_left_without_variables_is_its_string_so_ref_and_getatt_can_name_a_looped_id() -> None:
    template = {
        "Resources": {
            "Fn::ForEach::Envs": loop(
                "Class",
                ["SMALL"],
                {
                    "Queue${Class}": {
                        "Properties": {
                            "Environment": {"Fn::GetAtt": [{"Fn::Sub": "Environment${Class}"}, "Arn"]},
                            "InstanceTypes": {"Ref": {"Fn::Sub": "InstanceTypes${Class}"}},
                        }
                    },
                },
            )
        }
    }

    props = expand_for_each(template, {})["Resources"]["QueueSMALL"]["Properties"]

    assert props == {
        "Environment": {"Fn::GetAtt": ["EnvironmentSMALL", "Arn"]},
        "InstanceTypes": {"Ref": "InstanceTypesSMALL"},
    }


def test_the_collection_may_be_a_comma_delimited_list_parameter() -> None:
    template = {
        "Resources": {
            "Fn::ForEach::Queues": loop(
                "Class", {"Ref": "Classes"}, {"JobQueue${Class}": {"Type": "AWS::Batch::JobQueue"}}
            )
        }
    }

    resources = expand_for_each(template, {"Classes": ["SMALL", "MEDIUM", "XLARGE"]})["Resources"]

    assert sorted(resources) == ["JobQueueMEDIUM", "JobQueueSMALL", "JobQueueXLARGE"]


def test_loops_inside_properties_and_nested_loops_expand_next_to_plain_keys() -> None:
    template = {
        "Resources": {
            "Fn": {
                "Properties": {
                    "Variables": {
                        "PLAIN": "kept",
                        "Fn::ForEach::Outer": loop(
                            "Class",
                            ["A", "B"],
                            {
                                "Fn::ForEach::Inner": loop(
                                    "Kind", ["X", "Y"], {"${Kind}_${Class}": {"Fn::Sub": "${Class}${Kind}"}}
                                ),
                            },
                        ),
                    }
                }
            }
        }
    }

    variables = expand_for_each(template, {})["Resources"]["Fn"]["Properties"]["Variables"]

    assert variables == {"PLAIN": "kept", "X_A": "AX", "Y_A": "AY", "X_B": "BX", "Y_B": "BY"}


def test_two_loops_that_write_the_same_key_are_an_error() -> None:
    template = {
        "Resources": {
            "QueueSMALL": {"Type": "AWS::Batch::JobQueue"},
            "Fn::ForEach::Queues": loop(
                "Class", ["SMALL"], {"Queue${Class}": {"Type": "AWS::Batch::JobQueue"}}
            ),
        }
    }

    with pytest.raises(ValueError, match="QueueSMALL"):
        expand_for_each(template, {})


def test_parameters_are_not_expanded_and_the_written_template_is_left_alone() -> None:
    written = read_template()

    assert any(key.startswith("Fn::ForEach::") for key in written["Resources"])
    expanded = load_template()
    assert not any(key.startswith("Fn::ForEach::") for key in expanded["Resources"])
    assert expanded["Parameters"] == written["Parameters"]
    assert any(key.startswith("Fn::ForEach::") for key in read_template()["Resources"])


def test_the_resolver_expands_a_written_template_for_its_parameter_overrides() -> None:
    resolver = Resolver(read_template(), "t", {"GpuSizeClasses": "SMALL", "UseSpotInstances": "true"})

    batch = {lid for lid, r in resolver.resources().items() if r["Type"].startswith("AWS::Batch::")}
    # (the worker pool's job queue and definition are written once, outside the loop)
    looped = batch - {"PoolJobQueue", "PoolWorkerJobDefinition"}

    assert looped == {"GpuJobDefinition", "JobQueueSMALL", "OnDemandEnvironmentSMALL", "SpotEnvironmentSMALL"}
