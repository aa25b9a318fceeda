"""Specifications of how template.yaml writes the GPU size classes: once, with Fn::ForEach.

A class is one entry of the GpuSizeClasses parameter plus its InstanceTypes<CLASS> parameter; the
loop gives it a job queue, an on-demand compute environment, a Spot one (UseSpotInstances=true) and
the planner's JOB_QUEUE_<CLASS> / INSTANCE_TYPES_<CLASS> variables.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
from moto import mock_aws
from pipeline.gpu_classes import GPU_CLASSES, SIZE_ORDER
from pipeline.modes import MODES
from plan_job.wiring import load_wiring

from local_emulator.aws import deploy
from local_emulator.bridges import bridged
from local_emulator.stack import MOTO_CONFIG, run_gpu_job_in_process
from local_emulator.template import REGION, Resolver, read_template

WRITTEN = read_template()


def classes_of(template: dict[str, Any]) -> list[str]:
    return template["Parameters"]["GpuSizeClasses"]["Default"].split(",")


def test_the_template_has_the_planners_classes_smallest_first_with_their_instance_types() -> None:
    assert classes_of(WRITTEN) == [size.upper() for size in SIZE_ORDER]
    for size in SIZE_ORDER:
        default = WRITTEN["Parameters"][f"InstanceTypes{size.upper()}"]["Default"]
        assert tuple(default.split(",")) == GPU_CLASSES[size].instance_types


def test_each_queue_tries_spot_first_when_asked_and_always_has_on_demand() -> None:
    cases = (("true", ["SpotEnvironment", "OnDemandEnvironment"]), ("false", ["OnDemandEnvironment"]))
    for spot, expected in cases:
        resolver = Resolver(WRITTEN, "t", {"UseSpotInstances": spot})
        resources = resolver.resources()
        for size in classes_of(WRITTEN):
            condition, with_spot, without_spot = resources[f"JobQueue{size}"]["Properties"][
                "ComputeEnvironmentOrder"
            ]["Fn::If"]
            order = with_spot if resolver.conditions[condition] else without_spot
            assert [o["Order"] for o in order] == list(range(1, len(expected) + 1))
            environments = [o["ComputeEnvironment"]["Fn::GetAtt"][0] for o in order]
            assert environments == [f"{e}{size}" for e in expected]
        assert (f"SpotEnvironment{classes_of(WRITTEN)[0]}" in resources) == (spot == "true")


def _with_xlarge(template: dict[str, Any]) -> dict[str, Any]:
    """The change a fourth class needs in the template: one list entry and its instance types."""
    changed = copy.deepcopy(template)
    changed["Parameters"]["GpuSizeClasses"]["Default"] += ",XLARGE"
    changed["Parameters"]["InstanceTypesXLARGE"] = {"Type": "String", "Default": "p5.48xlarge,p5e.48xlarge"}
    return changed


def test_a_fourth_class_is_one_entry_and_gets_queue_environments_and_planner_variables() -> None:
    with mock_aws(config=MOTO_CONFIG), bridged(job_runner=run_gpu_job_in_process):
        deployment = deploy(
            stack_name="xl", parameter_overrides={"UseSpotInstances": "true"}, template=_with_xlarge(WRITTEN)
        )
        batch = boto3.client("batch", region_name=REGION)
        awslambda = boto3.client("lambda", region_name=REGION)

        # Then the class has its queue, backed by its Spot then on-demand compute environment
        [queue] = batch.describe_job_queues(jobQueues=[deployment.ref("JobQueueXLARGE")])["jobQueues"]
        assert queue["jobQueueName"] == "xl-XLARGE"
        assert [
            o["computeEnvironment"]
            for o in sorted(queue["computeEnvironmentOrder"], key=lambda o: o["order"])
        ] == [deployment.ref("SpotEnvironmentXLARGE"), deployment.ref("OnDemandEnvironmentXLARGE")]
        # And the deployed planner function names that queue and the class's instance types
        plan_fn = awslambda.get_function_configuration(FunctionName=deployment.ref("PlanJobFunction"))
        variables = plan_fn["Environment"]["Variables"]
        assert variables["JOB_QUEUE_XLARGE"] == queue["jobQueueArn"]
        assert variables["INSTANCE_TYPES_XLARGE"] == "p5.48xlarge,p5e.48xlarge"
        # And the three classes that were there are unchanged
        for size in SIZE_ORDER:
            assert variables[f"JOB_QUEUE_{size.upper()}"] == deployment.ref(f"JobQueue{size.upper()}")


def test_the_planner_finds_a_queue_per_class_and_a_job_definition_per_mode_in_its_environment() -> None:
    with mock_aws(config=MOTO_CONFIG), bridged(job_runner=run_gpu_job_in_process):
        deployment = deploy(stack_name="env")
        plan_fn = boto3.client("lambda", region_name=REGION).get_function_configuration(
            FunctionName=deployment.ref("PlanJobFunction")
        )
        wiring = load_wiring(plan_fn["Environment"]["Variables"])

    assert wiring.job_queues == {size: deployment.ref(f"JobQueue{size.upper()}") for size in SIZE_ORDER}
    # One job definition serves every mode: the mode is on the job's command line.
    assert wiring.job_definitions == dict.fromkeys(MODES, deployment.ref("GpuJobDefinition"))
    assert wiring.instance_types == {size: GPU_CLASSES[size].instance_types for size in SIZE_ORDER}
