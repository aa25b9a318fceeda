"""`parakeet doctor`: read-only checks that a deployed stack can transcribe (docs/DEPLOY.md, docs/CLI.md).

A stack can deploy cleanly and still never transcribe: the account's GPU vCPU quota is 0, a compute
environment went INVALID, nobody pushed the image, the input bucket stopped sending events, or the image
bakes another model than the stack asks for (the job runs offline and cannot download it). Each check
answers pass, warn or fail with a one-line fix. Only Describe/Get/List calls are made.

The checks are plain functions of boto3 clients (passed in, so tests give moto's, or a fake where moto
lacks the API) and return `Check` values; `render` prints them and knows nothing of AWS. A check that
cannot run (AccessDenied, an API the endpoint lacks) is a warn that says so: doctor proves problems, it
does not invent them, and the exit code stays 1 only for a proven failure.

What is read, and where the stack names it:
- Batch compute environments and job queues: the stack's resources (CloudFormation ListStackResources);
  a stack that lists none (the local stack publishes its outputs only, connect.publish_local_stack) falls
  back to the job queues named after the stack, as template.yaml names the class queues, and the compute
  environments those queues use.
- The image and the model: the job definitions template.yaml names ``<stack>-gpu-job`` and
  ``<stack>-pool-worker`` (their image URI and GPU_JOB_MODEL are what Batch runs), the image in ECR
  (DescribeImages), and its config blob (BatchGetImage -> GetDownloadUrlForLayer -> one HTTPS GET): the
  Env gpu_job/Dockerfile sets (GPU_JOB_MODEL) and the label it writes (MODEL_REVISION_LABEL).
- Quotas: Service Quotas GetServiceQuota for the vCPU quota of each instance family the compute
  environments launch (VCPU_QUOTAS) and Lambda's concurrent executions.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from botocore.exceptions import BotoCoreError, ClientError
from pipeline.exact_upload import error_code, error_message
from pipeline.gpu_classes import SIZE_ORDER

from parakeet_cli import exits
from parakeet_cli.connect import Stack

if TYPE_CHECKING:
    from mypy_boto3_batch.client import BatchClient
    from mypy_boto3_s3.client import S3Client


Status = Literal["pass", "warn", "fail"]
Download = Callable[[str], bytes]

# template.yaml JobDefinitionName of GpuJobDefinition and PoolWorkerJobDefinition.
JOB_DEFINITION_SUFFIXES = ("-gpu-job", "-pool-worker")
# gpu_job/Dockerfile: `ENV GPU_JOB_MODEL=${MODEL}` and `LABEL parakeet.model-revision=${MODEL_REVISION}`.
MODEL_ENV = "GPU_JOB_MODEL"
MODEL_REVISION_LABEL = "parakeet.model-revision"
REVISION_FILE = "/opt/hf/model_revision"  # gpu_job/Dockerfile writes it whatever the build arguments


@dataclass(frozen=True)
class VcpuQuota:
    code: str
    name: str


# EC2 Running On-Demand / Spot vCPU quotas (Service Quotas, service code "ec2"), by quota family.
VCPU_QUOTAS: dict[tuple[str, bool], VcpuQuota] = {
    ("G", False): VcpuQuota("L-DB2E81BA", "Running On-Demand G and VT instances"),
    ("P", False): VcpuQuota("L-417A185B", "Running On-Demand P instances"),
    ("standard", False): VcpuQuota(
        "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"
    ),
    ("G", True): VcpuQuota("L-3819A6DF", "All G and VT Spot Instance Requests"),
    ("P", True): VcpuQuota("L-7212CCBC", "All P Spot Instance Requests"),
    ("standard", True): VcpuQuota(
        "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"
    ),
}
LAMBDA_CONCURRENCY = VcpuQuota("L-B99A9384", "Concurrent executions")
# Below this many concurrent executions a burst of uploads throttles the functions (new accounts get 10).
LAMBDA_CONCURRENCY_FLOOR = 100
LAMBDA_CONCURRENCY_ASK = 1000

_OTHER_FAMILIES = ("inf", "dl", "trn", "hpc", "mac", "u-", "x", "f", "vt")  # own quotas, or not "standard"
_ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
]


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class Check:
    """One finding: what was checked, what was found and, unless it passed, the one-line fix."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class Report:
    stack: str
    region: str
    checks: list[Check]

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in ("pass", "warn", "fail")}

    @property
    def exit_code(self) -> int:
        """FAILED_ITEMS when any check failed; warnings alone exit OK."""
        return exits.FAILED_ITEMS if self.counts["fail"] else exits.OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "checks": [asdict(c) for c in self.checks],
            "summary": self.counts,
            "exit_code": self.exit_code,
        }


def _unchecked(name: str, exc: Exception, needs: str) -> Check:
    """A check that could not run: a warn naming the error (one line) and what would let it run."""
    code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
    message = error_message(exc) if isinstance(exc, ClientError) else str(exc)
    message = " ".join(re.sub(r"<[^>]+>", " ", message).split())[:160]  # an HTML error page, squashed
    denied = any(word in code for word in ("AccessDenied", "Unauthorized", "Forbidden"))
    fix = f"run doctor with a role that may call {needs}"
    if not denied:
        fix = f"retry; if it persists, check the endpoint, region and credentials ({needs})"
    return Check(name, "warn", f"could not check: {code}: {message}".rstrip(": "), fix)


_AWS_ERRORS = (ClientError, BotoCoreError, NotImplementedError)  # moto raises the last for missing APIs


# ---------------------------------------------------------------- what the stack is made of
@dataclass(frozen=True)
class StackParts:
    """The stack's Batch resources, as Batch describes them."""

    compute_environments: list[dict[str, Any]] = field(default_factory=list)
    job_queues: list[dict[str, Any]] = field(default_factory=list)
    job_definitions: list[dict[str, Any]] = field(default_factory=list)


def _stack_resources(cloudformation: Any, stack_name: str) -> dict[str, list[str]]:
    by_type: dict[str, list[str]] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource.get("PhysicalResourceId"):
                by_type.setdefault(resource["ResourceType"], []).append(resource["PhysicalResourceId"])
    return by_type


def stack_parts(cloudformation: Any, batch: BatchClient, stack_name: str) -> StackParts:
    resources = _stack_resources(cloudformation, stack_name)
    queue_ids = resources.get("AWS::Batch::JobQueue", [])
    if queue_ids:
        queues = batch.describe_job_queues(jobQueues=queue_ids)["jobQueues"]
    else:  # the local stack: its CloudFormation stack holds only its outputs
        queues = [
            q
            for q in batch.describe_job_queues()["jobQueues"]
            if q["jobQueueName"].startswith(f"{stack_name}-")
        ]
    environment_ids = resources.get("AWS::Batch::ComputeEnvironment") or list(
        dict.fromkeys(o["computeEnvironment"] for q in queues for o in q.get("computeEnvironmentOrder", []))
    )
    environments = (
        batch.describe_compute_environments(computeEnvironments=environment_ids)["computeEnvironments"]
        if environment_ids
        else []
    )
    definitions = []
    for suffix in JOB_DEFINITION_SUFFIXES:
        found = batch.describe_job_definitions(jobDefinitionName=f"{stack_name}{suffix}", status="ACTIVE")[
            "jobDefinitions"
        ]
        if found:
            definitions.append(max(found, key=lambda d: d["revision"]))
    # Batch's TypedDicts read as the plain dicts the checks take.
    return StackParts(*(cast(list[dict[str, Any]], found) for found in (environments, queues, definitions)))


# ---------------------------------------------------------------- Batch
def check_compute_environments(environments: list[dict[str, Any]]) -> list[Check]:
    if not environments:
        return [
            Check(
                "compute environments",
                "fail",
                "the stack has no Batch compute environment",
                "deploy the stack (sam deploy); GpuSizeClasses must name at least one class",
            )
        ]
    checks = []
    for env in environments:
        name = f"compute environment {env['computeEnvironmentName']}"
        resources = env.get("computeResources") or {}
        shape = (
            f"{resources.get('type')} {','.join(resources.get('instanceTypes', []))}, "
            f"max {resources.get('maxvCpus')} vCPUs"
            if resources
            else env.get("type", "?")
        )
        status, state = env.get("status"), env.get("state")
        if status == "VALID" and state == "ENABLED":
            checks.append(Check(name, "pass", f"VALID, ENABLED ({shape})"))
        elif status == "INVALID":
            checks.append(
                Check(
                    name,
                    "fail",
                    f"INVALID: {env.get('statusReason') or 'no reason given'}",
                    "fix what the reason names (often SubnetIds/VpcId, or an instance type this "
                    "region lacks), then `sam deploy` again",
                )
            )
        elif state != "ENABLED":
            checks.append(
                Check(
                    name,
                    "fail",
                    f"{status}, {state}: no job it serves can start",
                    f"aws batch update-compute-environment --compute-environment "
                    f"{env['computeEnvironmentName']} --state ENABLED",
                )
            )
        else:
            checks.append(
                Check(
                    name,
                    "warn",
                    f"{status}, {state}: not ready yet",
                    "wait until Batch reports it VALID, then run doctor again",
                )
            )
    return checks


def check_job_queues(queues: list[dict[str, Any]]) -> list[Check]:
    if not queues:
        return [
            Check("job queues", "fail", "the stack has no Batch job queue", "deploy the stack (sam deploy)")
        ]
    checks = []
    for queue in queues:
        name = f"job queue {queue['jobQueueName']}"
        status, state = queue.get("status"), queue.get("state")
        if not queue.get("computeEnvironmentOrder"):
            checks.append(Check(name, "fail", "no compute environment behind it", "`sam deploy` again"))
        elif status == "VALID" and state == "ENABLED":
            checks.append(Check(name, "pass", "VALID, ENABLED"))
        elif status == "INVALID" or state != "ENABLED":
            checks.append(
                Check(
                    name,
                    "fail",
                    f"{status}, {state}: {queue.get('statusReason') or ''}".rstrip(": "),
                    f"aws batch update-job-queue --job-queue {queue['jobQueueName']} --state ENABLED "
                    "(if INVALID, fix its compute environments first)",
                )
            )
        else:
            checks.append(
                Check(name, "warn", f"{status}, {state}: not ready yet", "wait, then run doctor again")
            )
    return checks


# ---------------------------------------------------------------- instance types and quotas
def quota_family(instance_type: str) -> str | None:
    """G, P or standard: which vCPU quota an instance type draws on (None: a family with its own)."""
    family = instance_type.split(".")[0].lower()
    if family.startswith(("g", "vt")):
        return "G"
    if family.startswith("p"):
        return "P"
    if family[:1] in set("acdhimrtz") and not family.startswith(_OTHER_FAMILIES):
        return "standard"
    return None


def _vcpus(ec2: Any, instance_types: Iterable[str]) -> dict[str, int]:
    """vCPUs of each named instance type (families such as ``g6`` and ``optimal`` have none)."""
    named = sorted({t for t in instance_types if "." in t})
    if not named:
        return {}
    found = ec2.describe_instance_types(InstanceTypes=named)["InstanceTypes"]
    return {t["InstanceType"]: int(t["VCpuInfo"]["DefaultVCpus"]) for t in found}


def check_instance_types(ec2: Any, environments: list[dict[str, Any]], region: str) -> list[Check]:
    """Every instance type a compute environment names is offered in the stack's region."""
    named = sorted(
        {
            t
            for env in environments
            for t in (env.get("computeResources") or {}).get("instanceTypes", [])
            if "." in t
        }
    )
    if not named:
        return []
    name = "instance types offered here"
    try:
        offerings = ec2.describe_instance_type_offerings(
            LocationType="region", Filters=[{"Name": "instance-type", "Values": named}]
        )["InstanceTypeOfferings"]
    except _AWS_ERRORS as exc:
        return [_unchecked(name, exc, "ec2:DescribeInstanceTypeOfferings")]
    offered = {o["InstanceType"] for o in offerings}
    missing = [t for t in named if t not in offered]
    if not missing:
        return [Check(name, "pass", f"{', '.join(named)} in {region}")]
    return [
        Check(
            name,
            "fail",
            f"{', '.join(missing)} not offered in {region}: their jobs can never start",
            "set InstanceTypes<CLASS> to a type this region offers (aws ec2 describe-instance-type-offerings "
            "--location-type region --filters Name=instance-type,Values=<type>), or deploy in a region "
            "that offers it",
        )
    ]


@dataclass
class _QuotaNeed:
    """What the environments drawing on one quota need: to start one instance of each (the largest such
    need, among the environments every file may use and among the larger classes), and to run all of
    them at MaxvCpus at once."""

    start: int = 0
    starter: str = ""  # which environment and instance type needs `start`
    start_larger: int = 0
    starter_larger: str = ""
    all_at_max: int = 0


def _quota_needs(
    ec2: Any, environments: list[dict[str, Any]], larger: set[str]
) -> dict[VcpuQuota, _QuotaNeed]:
    managed = [env for env in environments if env.get("computeResources")]
    vcpus = _vcpus(ec2, (t for env in managed for t in env["computeResources"].get("instanceTypes", [])))
    needs: dict[VcpuQuota, _QuotaNeed] = {}
    for env in managed:
        resources = env["computeResources"]
        spot = resources.get("type") in ("SPOT", "FARGATE_SPOT")
        by_quota: dict[VcpuQuota, list[str]] = {}
        for instance_type in resources.get("instanceTypes", []):
            family = quota_family(instance_type)
            if family is not None:
                by_quota.setdefault(VCPU_QUOTAS[(family, spot)], []).append(instance_type)
        for quota, types in by_quota.items():
            need = needs.setdefault(quota, _QuotaNeed())
            smallest = min(types, key=lambda t: vcpus.get(t, 1))
            start = vcpus.get(smallest, 1)
            who = f"{env['computeEnvironmentName']} ({smallest})"
            if env["computeEnvironmentArn"] in larger:
                if start > need.start_larger:
                    need.start_larger, need.starter_larger = start, who
            elif start > need.start:
                need.start, need.starter = start, who
            need.all_at_max += max(int(resources.get("maxvCpus", 0)), start)
    return needs


def larger_class_environments(parts: StackParts, stack_name: str) -> set[str]:
    """Compute environments that serve only the queues of classes above the smallest (`<stack>-MEDIUM`,
    `<stack>-LARGE`). The planner sends a file there only when the smallest class cannot hold its mode
    (never with the default thresholds: batched mode fits the smallest at every length), so a quota that
    cannot start them is a warning; the smallest class's and the pool's environments serve every file."""
    class_queues = {f"{stack_name}-{name.upper()}": rank for rank, name in enumerate(SIZE_ORDER)}
    essential: set[str] = set()
    for queue in parts.job_queues:
        if class_queues.get(queue["jobQueueName"], 0) == 0:  # the smallest class, the pool, any other
            essential.update(o["computeEnvironment"] for o in queue.get("computeEnvironmentOrder", []))
    by_name = {
        env["computeEnvironmentName"]: env["computeEnvironmentArn"] for env in parts.compute_environments
    }
    essential = {by_name.get(e, e) for e in essential}  # an order may name an environment by name
    return {env["computeEnvironmentArn"] for env in parts.compute_environments} - essential


def _quota_value(service_quotas: Any, service: str, code: str) -> float:
    """The applied quota; the AWS default where none was ever applied (GetServiceQuota then answers
    NoSuchResourceException)."""
    try:
        return float(service_quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchResourceException":
            raise
    return float(
        service_quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
    )


def _ask(service: str, code: str, value: int, region: str) -> str:
    return (
        f"aws service-quotas request-service-quota-increase --region {region} --service-code {service} "
        f"--quota-code {code} --desired-value {value}"
    )


def check_vcpu_quotas(
    service_quotas: Any,
    ec2: Any,
    environments: list[dict[str, Any]],
    region: str,
    larger: set[str] | None = None,
) -> list[Check]:
    """Each instance family's vCPU quota lets the compute environments start an instance (fail where an
    environment every file may use cannot, warn for the `larger` classes' environments) and, better, all
    of them run at MaxvCpus at once (warn). The quota is the account's in this region, shared with
    everything else running there."""
    try:
        needs = _quota_needs(ec2, environments, larger or set())
    except _AWS_ERRORS as exc:
        return [_unchecked("vCPU quotas", exc, "ec2:DescribeInstanceTypes")]
    checks = []
    for quota, need in sorted(needs.items(), key=lambda item: item[0].code):
        name = f"quota {quota.name} ({quota.code})"
        try:
            value = _quota_value(service_quotas, "ec2", quota.code)
        except _AWS_ERRORS as exc:
            checks.append(_unchecked(name, exc, "servicequotas:GetServiceQuota"))
            continue
        fix = _ask("ec2", quota.code, need.all_at_max, region)
        found = f"{value:g} vCPUs in {region}"
        if value < need.start:
            detail = f"{found}: {need.starter} needs {need.start} to start an instance; jobs wait in RUNNABLE"
            checks.append(Check(name, "fail", detail, fix))
        elif value < need.start_larger:
            detail = (
                f"{found}: {need.starter_larger} needs {need.start_larger} to start one instance; files "
                "planned for its class would wait in RUNNABLE (the planner picks a larger class only when "
                "the smallest cannot hold the file's mode)"
            )
            checks.append(Check(name, "warn", detail, fix))
        elif value < need.all_at_max:
            detail = (
                f"{found}: enough to start, less than the {need.all_at_max} the environments may use at once"
            )
            checks.append(Check(name, "warn", detail, fix))
        else:
            checks.append(Check(name, "pass", f"{found} (the stack may use {need.all_at_max})"))
    return checks


def check_lambda_concurrency(service_quotas: Any, region: str) -> list[Check]:
    quota = LAMBDA_CONCURRENCY
    name = f"quota Lambda {quota.name} ({quota.code})"
    try:
        value = _quota_value(service_quotas, "lambda", quota.code)
    except _AWS_ERRORS as exc:
        return [_unchecked(name, exc, "servicequotas:GetServiceQuota")]
    if value < LAMBDA_CONCURRENCY_FLOOR:
        return [
            Check(
                name,
                "warn",
                f"{value:g} in {region}: a burst of uploads throttles the functions "
                "(Step Functions retries, then the files fail)",
                _ask("lambda", quota.code, LAMBDA_CONCURRENCY_ASK, region),
            )
        ]
    return [Check(name, "pass", f"{value:g} in {region}")]


# ---------------------------------------------------------------- the image and its model
@dataclass(frozen=True)
class ImageRef:
    uri: str
    registry: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, uri: str) -> ImageRef | None:
        """An ECR image URI (registry.dkr.ecr.region.amazonaws.com/repo:tag[@digest]); None otherwise."""
        match = _ECR_IMAGE.match(uri)
        if match is None:
            return None
        return cls(uri=uri, **match.groupdict())

    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}


def _environment(definition: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in definition.get("containerProperties", {}).get("environment", [])}


def check_images(
    ecr: Any, definitions: list[dict[str, Any]], repository_uri: str | None, download: Download
) -> list[Check]:
    """The image each job definition runs exists in ECR, and bakes the model the job definition asks for."""
    if not definitions:
        return [
            Check(
                "job definitions",
                "fail",
                "no ACTIVE <stack>-gpu-job / <stack>-pool-worker job definition",
                "deploy the stack (sam deploy)",
            )
        ]
    checks: list[Check] = []
    by_image: dict[str, list[dict[str, Any]]] = {}
    for definition in definitions:
        by_image.setdefault(definition["containerProperties"]["image"], []).append(definition)
    for uri, users in by_image.items():
        ref = ImageRef.parse(uri)
        name = f"image {uri}"
        if ref is None:
            checks.append(
                Check(
                    name,
                    "warn",
                    "not an ECR image: not checked",
                    "push the image to the stack's GpuJobRepositoryUri and set ImageTag",
                )
            )
            continue
        if (
            repository_uri
            and not uri.startswith(repository_uri + ":")
            and not uri.startswith(repository_uri + "@")
        ):
            checks.append(
                Check(
                    name,
                    "warn",
                    f"not in the stack's repository {repository_uri}",
                    "push to GpuJobRepositoryUri (docs/DEPLOY.md)",
                )
            )
        image_check = _check_pushed(ecr, ref, name)
        checks.append(image_check)
        if image_check.status == "pass":
            wanted = {m for m in (_environment(d).get(MODEL_ENV) for d in users) if m is not None}
            checks.append(_check_model(ecr, ref, wanted, download))
    return checks


def _check_pushed(ecr: Any, ref: ImageRef, name: str) -> Check:
    push = (
        f"build and push it: docker build -f gpu_job/Dockerfile -t {ref.uri} . && docker push {ref.uri} "
        "(docs/DEPLOY.md)"
    )
    try:
        details = ecr.describe_images(
            registryId=ref.registry, repositoryName=ref.repository, imageIds=[ref.image_id()]
        )["imageDetails"]
    except ClientError as exc:
        if error_code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return Check(name, "fail", f"not in ECR ({error_code(exc)}): every job fails to start", push)
        return _unchecked(name, exc, "ecr:DescribeImages")
    except _AWS_ERRORS as exc:
        return _unchecked(name, exc, "ecr:DescribeImages")
    if not details:
        return Check(name, "fail", "not in ECR: every job fails to start", push)
    detail = details[0]
    size = detail.get("imageSizeInBytes")
    pushed = detail.get("imagePushedAt")
    return Check(
        name,
        "pass",
        f"in ECR ({detail.get('imageDigest')}"
        + (f", {size / 1e9:.1f} GB" if size else "")
        + (f", pushed {pushed:%Y-%m-%d}" if pushed else "")
        + ")",
    )


def image_config(ecr: Any, ref: ImageRef, download: Download) -> dict[str, Any]:
    """The image's config blob (Env, Labels): its manifest from BatchGetImage (the linux/amd64 entry of
    a multi-platform index, as `docker buildx` pushes), then the blob through GetDownloadUrlForLayer."""
    image_id = ref.image_id()
    for _ in range(2):
        images = ecr.batch_get_image(
            registryId=ref.registry,
            repositoryName=ref.repository,
            imageIds=[image_id],
            acceptedMediaTypes=_MANIFEST_TYPES,
        )["images"]
        if not images:
            raise LookupError(f"BatchGetImage found no manifest for {ref.uri}")
        manifest = json.loads(images[0]["imageManifest"])
        if "manifests" not in manifest:
            break
        amd64 = [
            m
            for m in manifest["manifests"]
            if m.get("platform", {}).get("architecture") == "amd64"
            and m.get("platform", {}).get("os") == "linux"
        ]
        if not amd64:
            raise LookupError(f"{ref.uri} is an index without a linux/amd64 image")
        image_id = {"imageDigest": amd64[0]["digest"]}
    digest = manifest["config"]["digest"]
    url = ecr.get_download_url_for_layer(
        registryId=ref.registry, repositoryName=ref.repository, layerDigest=digest
    )["downloadUrl"]
    config: dict[str, Any] = json.loads(download(url))
    return config


def _check_model(ecr: Any, ref: ImageRef, wanted: set[str], download: Download) -> Check:
    name = f"model in {ref.uri}"
    try:
        config = image_config(ecr, ref, download)
    except (*_AWS_ERRORS, LookupError, OSError, ValueError) as exc:
        check = _unchecked(name, exc, "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer")
        return Check(
            name,
            "warn",
            check.detail,
            f"{check.fix}; or read it from the image: "
            f"docker run --rm --entrypoint cat {ref.uri} {REVISION_FILE}",
        )
    settings = config.get("config") or {}
    env = dict(item.split("=", 1) for item in settings.get("Env") or [] if "=" in item)
    baked = env.get(MODEL_ENV)
    revision = (settings.get("Labels") or {}).get(MODEL_REVISION_LABEL) or ""
    if baked is None:
        return Check(
            name,
            "warn",
            f"the image sets no {MODEL_ENV}: not built from gpu_job/Dockerfile?",
            "build the image with gpu_job/Dockerfile (docs/DEPLOY.md)",
        )
    other = sorted(wanted - {baked})
    if other:
        return Check(
            name,
            "fail",
            f"the image bakes {baked} but the stack loads {', '.join(other)}; jobs run "
            "offline and cannot download it",
            f"rebuild with --build-arg MODEL={other[0]}, or deploy with ModelId={baked}",
        )
    if not revision:
        return Check(
            name,
            "warn",
            f"{baked}; revision not recorded in the image's labels (built without "
            "--build-arg MODEL_REVISION)",
            f"docker run --rm --entrypoint cat {ref.uri} {REVISION_FILE}; pass MODEL_REVISION at the next "
            "build (docs/DEPLOY.md)",
        )
    return Check(name, "pass", f"{baked} at revision {revision}")


# ---------------------------------------------------------------- ingress
def check_eventbridge(s3: S3Client, bucket: str) -> list[Check]:
    """The input bucket sends its events to EventBridge: without it no upload starts an execution."""
    name = f"EventBridge notifications on {bucket}"
    try:
        configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
    except _AWS_ERRORS as exc:
        return [_unchecked(name, exc, "s3:GetBucketNotification")]
    if "EventBridgeConfiguration" in configuration:
        return [Check(name, "pass", "enabled")]
    return [
        Check(
            name,
            "fail",
            "off: uploads start no execution",
            '`sam deploy` again (the template enables it), or add "EventBridgeConfiguration": {} to the '
            "bucket's notification configuration (aws s3api put-bucket-notification-configuration)",
        )
    ]


# ---------------------------------------------------------------- all of it
def fetch_url(url: str) -> bytes:
    """GET a presigned ECR layer URL (an S3 URL that carries its own authorisation)."""
    if not url.startswith("https://"):
        raise ValueError(f"refusing a non-HTTPS layer URL: {url[:60]}")
    with urllib.request.urlopen(url, timeout=30) as response:  # https only, checked above
        body: bytes = response.read()
    return body


def diagnose(stack: Stack, download: Download = fetch_url) -> Report:
    names = stack.names
    region = names.region
    checks: list[Check] = []
    try:
        parts = stack_parts(stack.client("cloudformation"), stack.client("batch"), names.stack_name)
    except _AWS_ERRORS as exc:
        parts = None
        checks.append(
            _unchecked("Batch resources", exc, "cloudformation:ListStackResources and batch:Describe*")
        )
    if parts is not None:
        checks += check_compute_environments(parts.compute_environments)
        checks += check_job_queues(parts.job_queues)
        checks += check_instance_types(stack.client("ec2"), parts.compute_environments, region)
        larger = larger_class_environments(parts, names.stack_name)
        checks += check_vcpu_quotas(
            stack.client("service-quotas"), stack.client("ec2"), parts.compute_environments, region, larger
        )
    checks += check_lambda_concurrency(stack.client("service-quotas"), region)
    if parts is not None:
        checks += check_images(
            stack.client("ecr"), parts.job_definitions, names.outputs.get("GpuJobRepositoryUri"), download
        )
    checks += check_eventbridge(stack.client("s3"), names.input_bucket)
    return Report(stack=names.stack_name, region=region, checks=checks)


def render(report: Report, console: Any) -> None:
    """One line per check (and its fix under it), then the counts."""
    marks = {"pass": "[green]PASS[/green]", "warn": "[yellow]WARN[/yellow]", "fail": "[red]FAIL[/red]"}
    console.print(f"parakeet doctor: stack {report.stack} ({report.region})", markup=False)
    for check in report.checks:
        console.print(f"{marks[check.status]} ", end="", markup=True)
        console.print(f"{check.name}: {check.detail}", markup=False)
        if check.fix:
            console.print(f"     fix: {check.fix}", markup=False)
    counts = report.counts
    console.print(f"{counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail", markup=False)
