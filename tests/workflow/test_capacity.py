"""Specification of bounded RUNNABLE time (issue 22): a job no GPU instance can be launched for ends typed.

On AWS a job whose compute environment cannot launch an instance (a G/P vCPU quota of 0, an instance
type the region does not offer, MaxvCpus below the instance's vCPUs) waits RUNNABLE until its job
queue's JobStateTimeLimitActions cancel it after RunnableTimeoutSeconds. The local stack simulates
that wait on a virtual clock (local_emulator.bridges, gap 30): nothing is slept.
"""

from __future__ import annotations

from pathlib import Path

import boto3
from pipeline.outcomes import CapacityUnavailable

from local_emulator import runner
from local_emulator.stack import LocalStack
from local_emulator.template import REGION, read_template
from tests.workflow.test_per_file_workflow import catalog_row

TEMPLATE = read_template()


def test_a_job_no_instance_can_be_launched_for_fails_as_capacity_unavailable_within_the_bound(
    stack: LocalStack, clips: dict[str, Path]
) -> None:
    # Given a small class whose instances cannot be launched (e.g. a G vCPU quota of 0)
    queue = stack.deployment.ref("JobQueueSMALL")
    stack.bridge.simulate_no_capacity(queue)

    # When a file planned on it is uploaded
    event, report = runner.upload_and_run(stack.deployment, str(clips["short"]), "quota/zero.wav")

    # Then its job waited RUNNABLE exactly the configured bound, and was cancelled without an attempt
    assert report is not None and report.status == "FAILED"
    [job] = stack.bridge.batch_jobs
    bound = float(TEMPLATE["Parameters"]["RunnableTimeoutSeconds"]["Default"])
    assert (job.job_queue, job.runnable_s, job.attempts) == (queue, bound, [])
    # And the file failed typed: CapacityUnavailable, neither bad input nor internal
    after_plan = report.states[report.states.index("Transcribe") :]
    assert after_plan == ["Transcribe", "RecordFailure", "IsSuperseded", "Failed"], report.states
    row = catalog_row(stack, event)
    assert row is not None
    assert (row["status"], row["reason"], row["reason_class"]) == (
        "FAILED",
        CapacityUnavailable.__name__,
        "capacity",
    )
    # And its message says what to check: the instance type, the region and the vCPU quota
    instance_type = TEMPLATE["Parameters"]["InstanceTypesSMALL"]["Default"]
    for words in (instance_type, REGION, "vCPU quota", "Running On-Demand G and VT instances"):
        assert words in row["message"], (words, row["message"])


def test_every_job_queue_cancels_what_waits_runnable_past_the_bound_with_a_typed_reason() -> None:
    from local_emulator.template import Resolver

    resolver = Resolver(TEMPLATE, "t")
    queues = {lid: r for lid, r in resolver.resources().items() if r["Type"] == "AWS::Batch::JobQueue"}
    assert {"PoolJobQueue", "JobQueueSMALL", "JobQueueMEDIUM", "JobQueueLARGE"} <= set(queues)
    for lid, queue in queues.items():
        [action] = queue["Properties"]["JobStateTimeLimitActions"]
        assert (action["Action"], action["State"]) == ("CANCEL", "RUNNABLE"), lid
        assert action["MaxTimeSeconds"] == {"Ref": "RunnableTimeoutSeconds"}, lid
        # The reason's first word is the outcome RecordFailure records (record_failure.classify)
        assert resolver.resolve(action["Reason"]).startswith(f"{CapacityUnavailable.__name__}:"), lid


def vcpus(instance_type: str) -> int:
    """An instance type's vCPUs, from the EC2 instance type specifications moto ships."""
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    return int(INSTANCE_TYPES[instance_type]["VCpuInfo"]["DefaultVCpus"])


def test_every_class_can_place_its_instances_under_max_vcpus() -> None:
    # An instance with more vCPUs than its compute environment's MaxvCpus is never launched: the job would
    # wait RUNNABLE until cancelled (p4de.24xlarge, 96 vCPUs, under the default 16 did exactly that)
    parameters = TEMPLATE["Parameters"]
    max_vcpus = int(parameters["MaxVcpusPerClass"]["Default"])
    for size in parameters["GpuSizeClasses"]["Default"].split(","):
        for instance_type in parameters[f"InstanceTypes{size}"]["Default"].split(","):
            assert vcpus(instance_type) <= max_vcpus, (size, instance_type, vcpus(instance_type))


def test_an_instance_bigger_than_the_cap_is_seen() -> None:
    assert vcpus("p4de.24xlarge") == 96 > int(TEMPLATE["Parameters"]["MaxVcpusPerClass"]["Default"])


def test_the_runnable_bound_is_one_batch_accepts() -> None:
    parameter = TEMPLATE["Parameters"]["RunnableTimeoutSeconds"]
    # JobStateTimeLimitAction.maxTimeSeconds: 600..86400
    assert (parameter["MinValue"], parameter["MaxValue"]) == (600, 86400)
    assert 600 <= int(parameter["Default"]) <= 86400
    # And the template's action has every member of the Batch API's JobStateTimeLimitAction
    shape = boto3.client("batch", region_name=REGION).meta.service_model.shape_for("JobStateTimeLimitAction")
    assert {"reason", "state", "maxTimeSeconds", "action"} <= set(shape.members)
