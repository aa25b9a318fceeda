"""`parakeet doctor` against the local stack (the real template's resources in moto): what it passes, what
it fails and with which fix, and its --json document and exit codes.

The stack is local_emulator.aws.deploy's in a plain ``mock_aws`` (no workflow runs here), published as
``parakeet-local`` like `make serve` does. Where moto 5.2.5 has no answer, the test gives one at the
client boundary, and says so:
- Service Quotas: moto knows only the ``vpc`` service's quotas; `FakeServiceQuotas` answers the values a
  test sets (NoSuchResourceException for others, as AWS does for an unknown code).
- ECR GetDownloadUrlForLayer: moto raises NotImplementedError; `EcrWithLayerUrls` answers a URL naming
  the digest and the test's download returns the config blob it pushed. The manifest itself is moto's
  (PutImage / BatchGetImage), so the doctor's manifest -> config path is exercised.
- Batch compute environments are always VALID in moto: `InvalidEnvironments` reports one INVALID.
- S3 GetBucketNotificationConfiguration omits EventBridgeConfiguration: local_emulator.s3_notifications.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from typer.testing import CliRunner

from local_emulator.aws import LocalDeployment, deploy
from local_emulator.s3_notifications import eventbridge_readback
from local_emulator.template import REGION
from parakeet_cli import doctor, exits
from parakeet_cli.app import CliState, app
from parakeet_cli.connect import Stack, publish_local_stack, resolve_stack

MODEL = "nvidia/parakeet-tdt-0.6b-v3"  # template.yaml ModelId default, the job definitions' GPU_JOB_MODEL
REVISION = "0123456789abcdef0123456789abcdef01234567"


class FakeServiceQuotas:
    """Service Quotas with the values a test sets (moto 5.2.5 serves the vpc service only)."""

    def __init__(self, values: dict[str, float] | None = None, error: str | None = None) -> None:
        self.values = values or {}
        self.error = error

    def _fail(self, code: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": f"{code} (test)"}}, operation)

    def get_service_quota(self, ServiceCode: str, QuotaCode: str) -> dict[str, Any]:
        if self.error:
            raise self._fail(self.error, "GetServiceQuota")
        if QuotaCode not in self.values:
            raise self._fail("NoSuchResourceException", "GetServiceQuota")
        return {
            "Quota": {"ServiceCode": ServiceCode, "QuotaCode": QuotaCode, "Value": self.values[QuotaCode]}
        }

    def get_aws_default_service_quota(self, ServiceCode: str, QuotaCode: str) -> dict[str, Any]:
        raise self._fail("NoSuchResourceException", "GetAWSDefaultServiceQuota")


class EcrWithLayerUrls:
    """moto's ECR, plus GetDownloadUrlForLayer (moto 5.2.5: NotImplementedError)."""

    def __init__(self, ecr: Any) -> None:
        self._ecr = ecr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ecr, name)

    def get_download_url_for_layer(
        self, registryId: str, repositoryName: str, layerDigest: str
    ) -> dict[str, str]:
        return {"downloadUrl": f"https://layers.test/{layerDigest}", "layerDigest": layerDigest}


class InvalidEnvironments:
    """moto's Batch, except that one compute environment reports INVALID (moto's are always VALID)."""

    def __init__(self, batch: Any, name: str, reason: str) -> None:
        self._batch, self.name, self.reason = batch, name, reason

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._batch, attribute)

    def describe_compute_environments(self, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._batch.describe_compute_environments(**kwargs)
        for env in answer["computeEnvironments"]:
            if env["computeEnvironmentName"] == self.name:
                env.update(status="INVALID", statusReason=self.reason)
        return answer


@dataclass
class Deployed:
    deployment: LocalDeployment
    quotas: FakeServiceQuotas
    blobs: dict[str, bytes]
    overrides: dict[str, Any]

    def client(self, service: str) -> Any:
        if service in self.overrides:
            return self.overrides[service]
        if service == "service-quotas":
            return self.quotas
        client = boto3.client(service, region_name=REGION)
        return EcrWithLayerUrls(client) if service == "ecr" else client

    def stack(self) -> Stack:
        return Stack(names=resolve_stack(self.client, "parakeet-local", local=True), clients=self.client)

    def download(self, url: str) -> bytes:
        return self.blobs[url.rsplit("/", 1)[1]]

    def diagnose(self) -> doctor.Report:
        return doctor.diagnose(self.stack(), download=self.download)

    def push_image(self, model: str = MODEL, revision: str = REVISION, tag: str = "v1") -> None:
        """What `docker push` leaves in ECR for gpu_job/Dockerfile: a manifest whose config blob holds the
        image's Env and Labels."""
        labels = {"parakeet.model": model, "parakeet.model-revision": revision}
        env = [f"GPU_JOB_MODEL={model}", "HF_HUB_OFFLINE=1"]
        config = {"architecture": "amd64", "os": "linux", "config": {"Env": env, "Labels": labels}}
        blob = json.dumps(config).encode()
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        self.blobs[digest] = blob
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(blob),
                "digest": digest,
            },
            "layers": [],
        }
        boto3.client("ecr", region_name=REGION).put_image(
            repositoryName=self.deployment.ref("GpuJobRepository"),
            imageManifest=json.dumps(manifest),
            imageTag=tag,
        )


# Enough of every quota for the default template (G: SMALL + MEDIUM at MaxVcpusPerClass 16; P: one p4de).
AMPLE = {"L-DB2E81BA": 64, "L-417A185B": 96, "L-B99A9384": 1000}


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    with mock_aws(), eventbridge_readback(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto: WaitConditionHandle of the published local stack
        deployment = deploy()
        publish_local_stack(deployment)
        yield Deployed(deployment, FakeServiceQuotas(dict(AMPLE)), {}, {})


def by_name(report: doctor.Report, start: str) -> list[doctor.Check]:
    return [c for c in report.checks if c.name.startswith(start)]


def test_a_stack_with_its_image_pushed_passes(deployed: Deployed) -> None:
    # Given the local stack with the image pushed and ample quotas
    deployed.push_image()
    # When the doctor runs
    report = deployed.diagnose()
    # Then nothing fails, and each part of the stack was looked at
    assert [c for c in report.checks if c.status != "pass"] == []
    assert report.exit_code == exits.OK
    assert len(by_name(report, "compute environment ")) == 3  # one on-demand environment per GPU class
    assert len(by_name(report, "job queue ")) == 4  # SMALL, MEDIUM, LARGE and the pool's
    [model] = by_name(report, "model in ")
    assert model.detail == f"{MODEL} at revision {REVISION}"
    [events] = by_name(report, "EventBridge notifications")
    assert deployed.deployment.input_bucket in events.name


def test_a_missing_image_fails_with_the_push_command(deployed: Deployed) -> None:
    report = deployed.diagnose()  # nothing pushed
    [image] = by_name(report, "image ")
    assert image.status == "fail" and "not in ECR" in image.detail
    assert image.fix is not None and f"docker push {image.name.removeprefix('image ')}" in image.fix
    assert by_name(report, "model in ") == []  # no second finding about the same missing image
    assert report.exit_code == exits.FAILED_ITEMS


def test_an_image_baking_another_model_fails(deployed: Deployed) -> None:
    deployed.push_image(model="nvidia/parakeet-tdt-1.1b")
    [model] = by_name(deployed.diagnose(), "model in ")
    assert model.status == "fail"
    assert "nvidia/parakeet-tdt-1.1b" in model.detail and MODEL in model.detail
    assert model.fix is not None and "ModelId=nvidia/parakeet-tdt-1.1b" in model.fix


def test_an_image_without_the_revision_label_warns_where_to_read_it(deployed: Deployed) -> None:
    deployed.push_image(revision="")
    report = deployed.diagnose()
    [model] = by_name(report, "model in ")
    assert model.status == "warn" and "revision not recorded" in model.detail
    assert model.fix is not None and doctor.REVISION_FILE in model.fix
    assert report.exit_code == exits.OK  # a warning alone is not a failure


def test_eventbridge_off_on_the_input_bucket_fails(deployed: Deployed) -> None:
    deployed.push_image()
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_bucket_notification_configuration(
        Bucket=deployed.deployment.input_bucket, NotificationConfiguration={}
    )
    report = deployed.diagnose()
    [events] = by_name(report, "EventBridge notifications")
    assert events.status == "fail" and "uploads start no execution" in events.detail
    assert report.exit_code == exits.FAILED_ITEMS


def test_an_invalid_compute_environment_fails_with_its_reason(deployed: Deployed) -> None:
    deployed.push_image()
    small = deployed.deployment.ref("OnDemandEnvironmentSMALL").rsplit("/", 1)[1]
    reason = "CLIENT_ERROR - The security group 'sg-0abc' does not exist"
    deployed.overrides["batch"] = InvalidEnvironments(
        boto3.client("batch", region_name=REGION), small, reason
    )
    report = deployed.diagnose()
    [env] = by_name(report, f"compute environment {small}")
    assert env.status == "fail" and env.detail == f"INVALID: {reason}"
    assert [c.status for c in by_name(report, "compute environment ") if c is not env] == ["pass", "pass"]
    assert report.exit_code == exits.FAILED_ITEMS


def test_a_quota_that_cannot_be_read_warns_and_names_the_permission(deployed: Deployed) -> None:
    deployed.push_image()
    deployed.quotas.error = "AccessDeniedException"
    report = deployed.diagnose()
    [concurrency] = by_name(report, "quota Lambda")
    assert concurrency.status == "warn" and "AccessDeniedException" in concurrency.detail
    assert concurrency.fix is not None and "servicequotas:GetServiceQuota" in concurrency.fix
    assert report.exit_code == exits.OK


def test_new_account_lambda_concurrency_warns(deployed: Deployed) -> None:
    deployed.quotas.values["L-B99A9384"] = 10
    [concurrency] = by_name(deployed.diagnose(), "quota Lambda")
    assert concurrency.status == "warn"
    assert concurrency.fix is not None and "--quota-code L-B99A9384 --desired-value 1000" in concurrency.fix


# ---------------------------------------------------------------- vCPU quotas of managed environments
def managed_environment(
    name: str, instance_types: list[str], max_vcpus: int, spot: bool = False
) -> dict[str, Any]:
    """A MANAGED compute environment in moto, as template.yaml declares them; its DescribeComputeEnvironments
    entry. (The local stack's are UNMANAGED stand-ins without instance types.)"""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"{name}-sg", Description="test", VpcId=vpc)["GroupId"]
    iam = boto3.client("iam", region_name=REGION)
    service = {"Service": "batch.amazonaws.com"}
    statement = {"Effect": "Allow", "Principal": service, "Action": "sts:AssumeRole"}
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    profile = iam.create_instance_profile(InstanceProfileName=f"{name}-profile")["InstanceProfile"]["Arn"]
    batch = boto3.client("batch", region_name=REGION)
    batch.create_compute_environment(
        computeEnvironmentName=name,
        type="MANAGED",
        state="ENABLED",
        serviceRole=role,
        computeResources={
            "type": "SPOT" if spot else "EC2",
            "minvCpus": 0,
            "maxvCpus": max_vcpus,
            "instanceTypes": instance_types,
            "subnets": [subnet],
            "securityGroupIds": [group],
            "instanceRole": profile,
        },
    )
    [env] = batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]
    return env  # type: ignore[no-any-return]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def quota_checks(values: dict[str, float], environments: list[dict[str, Any]]) -> list[doctor.Check]:
    ec2 = boto3.client("ec2", region_name=REGION)
    return doctor.check_vcpu_quotas(FakeServiceQuotas(values), ec2, environments, REGION)


def test_a_zero_g_quota_fails_naming_the_quota_and_the_request(aws: None) -> None:
    # Given the small class's environment (g6.xlarge, 4 vCPUs) on a new account (G quota 0)
    small = managed_environment("small", ["g6.xlarge"], 16)
    [check] = quota_checks({"L-DB2E81BA": 0}, [small])
    # Then the check fails, names the quota, and says what to ask for
    assert check.status == "fail"
    assert check.name == "quota Running On-Demand G and VT instances (L-DB2E81BA)"
    assert "small (g6.xlarge) needs 4" in check.detail
    assert check.fix == (
        f"aws service-quotas request-service-quota-increase --region {REGION} --service-code ec2 "
        "--quota-code L-DB2E81BA --desired-value 16"
    )


def test_the_g_quota_is_judged_against_every_g_environment_together(aws: None) -> None:
    environments = [
        managed_environment("small", ["g6.xlarge"], 16),
        managed_environment("medium", ["g6e.xlarge"], 16),
    ]
    [enough_to_start] = quota_checks({"L-DB2E81BA": 8}, environments)
    assert enough_to_start.status == "warn" and "less than the 32" in enough_to_start.detail
    [ample] = quota_checks({"L-DB2E81BA": 32}, environments)
    assert ample.status == "pass"


def test_the_large_class_needs_a_p_quota_of_one_whole_instance(aws: None) -> None:
    # p4de.24xlarge has 96 vCPUs: MaxvCpus 16 does not lower what one instance needs
    large = managed_environment("large", ["p4de.24xlarge"], 16)
    [check] = quota_checks({"L-417A185B": 64}, [large])
    assert check.name == "quota Running On-Demand P instances (L-417A185B)"
    assert check.status == "fail" and "needs 96" in check.detail
    assert check.fix is not None and "--desired-value 96" in check.fix


def test_a_larger_class_that_cannot_start_warns_when_the_smallest_can(aws: None) -> None:
    # Given a zero P quota whose only environment serves the LARGE class's queue
    large = managed_environment("large", ["p4de.24xlarge"], 16)
    ec2 = boto3.client("ec2", region_name=REGION)
    [check] = doctor.check_vcpu_quotas(
        FakeServiceQuotas({"L-417A185B": 0}), ec2, [large], REGION, larger={large["computeEnvironmentArn"]}
    )
    # Then it is a warning (files reach LARGE only when the smallest class cannot hold their mode)
    assert check.status == "warn" and "large (p4de.24xlarge) needs 96" in check.detail


def test_the_larger_classes_are_told_apart_from_the_smallest_and_the_pool(deployed: Deployed) -> None:
    parts = doctor.stack_parts(deployed.client("cloudformation"), deployed.client("batch"), "parakeet-local")
    larger = doctor.larger_class_environments(parts, "parakeet-local")
    by_arn = {e["computeEnvironmentArn"]: e["computeEnvironmentName"] for e in parts.compute_environments}
    assert sorted(by_arn[arn] for arn in larger) == [
        "parakeet-local-ondemandenvironmentlarge",
        "parakeet-local-ondemandenvironmentmedium",
    ]


def test_spot_environments_draw_on_the_spot_quota(aws: None) -> None:
    spot = managed_environment("small-spot", ["g6.xlarge"], 16, spot=True)
    [check] = quota_checks({"L-3819A6DF": 0}, [spot])
    assert check.name == "quota All G and VT Spot Instance Requests (L-3819A6DF)" and check.status == "fail"


def test_an_instance_type_the_region_does_not_offer_fails(aws: None) -> None:
    # moto's offerings (AWS's, as of moto 5.2.5): eu-west-1 has p4d.24xlarge but no p4de.24xlarge
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    offered = {
        o["InstanceType"]
        for o in ec2.describe_instance_type_offerings(LocationType="region")["InstanceTypeOfferings"]
    }
    assert "p4de.24xlarge" not in offered and "g6.xlarge" not in offered
    env = {"computeEnvironmentName": "large", "computeResources": {"instanceTypes": ["p4de.24xlarge"]}}
    [check] = doctor.check_instance_types(ec2, [env], "eu-west-1")
    assert check.status == "fail" and check.detail.startswith("p4de.24xlarge not offered in eu-west-1")


def test_quota_families_follow_the_instance_type(aws: None) -> None:
    families = {
        t: doctor.quota_family(t)
        for t in (
            "g6.xlarge",
            "g6e.xlarge",
            "vt1.3xlarge",
            "p4de.24xlarge",
            "p5.48xlarge",
            "m5.large",
            "inf2.xlarge",
            "trn1.2xlarge",
            "dl1.24xlarge",
        )
    }
    assert families == {
        "g6.xlarge": "G",
        "g6e.xlarge": "G",
        "vt1.3xlarge": "G",
        "p4de.24xlarge": "P",
        "p5.48xlarge": "P",
        "m5.large": "standard",
        "inf2.xlarge": None,
        "trn1.2xlarge": None,
        "dl1.24xlarge": None,
    }


# ---------------------------------------------------------------- the command
def test_the_command_prints_one_json_document_and_exits_1_on_a_failure(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor, "fetch_url", deployed.download)  # nothing pushed: the download is not reached
    result = CliRunner().invoke(
        app, ["--local", "doctor", "--json"], obj=CliState(client_factory=deployed.client)
    )
    assert result.exit_code == exits.FAILED_ITEMS
    document = json.loads(result.stdout)  # exactly one document
    assert document["stack"] == "parakeet-local" and document["exit_code"] == exits.FAILED_ITEMS
    assert document["summary"]["fail"] == sum(c["status"] == "fail" for c in document["checks"]) >= 1
    assert {"name", "status", "detail", "fix"} <= set(document["checks"][0])


def test_the_command_prints_a_line_per_check_and_its_fix(deployed: Deployed) -> None:
    result = CliRunner().invoke(app, ["--local", "doctor"], obj=CliState(client_factory=deployed.client))
    assert result.exit_code == exits.FAILED_ITEMS
    lines = result.stdout.splitlines()
    failed = [i for i, line in enumerate(lines) if line.startswith("FAIL image ")]
    assert len(failed) == 1 and lines[failed[0] + 1].lstrip().startswith("fix: build and push it")
    assert lines[-1].endswith(" fail") and any(line.startswith("PASS job queue ") for line in lines)
