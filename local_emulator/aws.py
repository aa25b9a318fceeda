"""Create the resources of ``template.yaml`` in moto's in-process AWS.

Walks the template's resources in dependency order and creates each one with the ordinary boto3
API call, resolving ``!Ref``/``!GetAtt``/``!Sub`` to the local physical names. Resource types that
only matter on a real account (VPC security group, launch template, instance profile, bucket and
queue policies) are listed in ``LocalDeployment.not_emulated`` instead of being faked.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local_emulator.bridges import QUEUE_TIME_LIMIT_ACTIONS
from local_emulator.template import REGION, REPO_ROOT, TEMPLATE_PATH, Resolver, read_template

STACK_NAME = "parakeet-local"
LOCAL_ROLE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass
class LocalDeployment:
    """Names and ARNs of the locally created stack, by the template's logical ids."""

    resolver: Resolver
    physical: dict[str, dict[str, str]]
    resource_types: dict[str, str]
    not_emulated: list[str] = field(default_factory=list)

    def ref(self, logical_id: str) -> str:
        return self.physical[logical_id]["Ref"]

    def attr(self, logical_id: str, attribute: str) -> str:
        return self.physical[logical_id][attribute]

    @property
    def input_bucket(self) -> str:
        return self.ref("InputBucket")

    @property
    def output_bucket(self) -> str:
        return self.ref("OutputBucket")

    @property
    def catalog_table(self) -> str:
        return self.ref("CatalogTable")

    @property
    def state_machine_arn(self) -> str:
        return self.ref("TranscribeStateMachine")

    @property
    def backfill_state_machine_arn(self) -> str:
        return self.ref("BackfillStateMachine")

    @property
    def pool_queue_url(self) -> str:
        return self.ref("PoolQueue")

    @property
    def pool_dead_letter_queue_url(self) -> str:
        return self.ref("PoolDeadLetterQueue")

    @property
    def pool_job_queue(self) -> str:
        return self.ref("PoolJobQueue")

    @property
    def upload_rule_name(self) -> str:
        return self.ref("UploadEventRule")

    def of_type(self, resource_type: str) -> list[str]:
        return [lid for lid, t in self.resource_types.items() if t == resource_type]


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _tiny_zip() -> bytes:
    """Lambda needs a code package; the bridge runs the handler from ``functions/`` instead."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "code runs in-process from functions/ (local_emulator.bridges)")
    return buf.getvalue()


def _lower_keys(node: Any, keep: frozenset[str] = frozenset({"Options"})) -> Any:
    """CloudFormation PascalCase -> Batch API camelCase (values of ``keep`` keys left untouched)."""
    if isinstance(node, list):
        return [_lower_keys(n, keep) for n in node]
    if isinstance(node, dict):
        return {k[:1].lower() + k[1:]: (v if k in keep else _lower_keys(v, keep)) for k, v in node.items()}
    return node


class _Creator:
    """One method per resource type; each creates the resource and records its Ref/attributes."""

    def __init__(self, resolver: Resolver) -> None:
        self.r = resolver
        self.local_role_arn = ""

    def record(self, logical_id: str, **values: str) -> None:
        self.r.physical[logical_id] = values

    def local_role(self) -> str:
        if not self.local_role_arn:
            role = _client("iam").create_role(
                RoleName=f"{self.r.stack_name}-local-exec", AssumeRolePolicyDocument=LOCAL_ROLE_TRUST
            )
            self.local_role_arn = role["Role"]["Arn"]
        return self.local_role_arn

    # -- storage ------------------------------------------------------------------------------
    def s3_bucket(self, lid: str, props: dict[str, Any]) -> None:
        s3 = _client("s3")
        name = props.get("BucketName") or self.r.physical_name(lid)
        s3.create_bucket(Bucket=name)
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                    "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
                }
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        notifications = props.get("NotificationConfiguration", {})
        if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.record(lid, Ref=name, Arn=f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.amazonaws.com")

    def dynamodb_table(self, lid: str, props: dict[str, Any]) -> None:
        name = props.get("TableName") or self.r.physical_name(lid)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("SSESpecification", {}).get("SSEEnabled"):
            kwargs["SSESpecification"] = {"Enabled": True}
        table = _client("dynamodb").create_table(**kwargs)["TableDescription"]
        self.record(lid, Ref=name, Arn=table["TableArn"])

    def sqs_queue(self, lid: str, props: dict[str, Any]) -> None:
        sqs = _client("sqs")
        name = props.get("QueueName") or self.r.physical_name(lid)
        attributes = {
            key: str(props[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds")
            if key in props
        }
        if "RedrivePolicy" in props:  # moto moves a message to the DLQ past maxReceiveCount, as SQS does
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.record(lid, Ref=url, Arn=arn, QueueName=name, QueueUrl=url)

    def log_group(self, lid: str, props: dict[str, Any]) -> None:
        logs = _client("logs")
        name = props.get("LogGroupName") or f"/local/{self.r.physical_name(lid)}"
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        self.record(
            lid,
            Ref=name,
            Arn=f"arn:aws:logs:{REGION}:{self.r.resolve({'Ref': 'AWS::AccountId'})}:log-group:{name}:*",
        )

    def glue_database(self, lid: str, props: dict[str, Any]) -> None:
        db = props["DatabaseInput"]
        _client("glue").create_database(DatabaseInput=db)
        self.record(lid, Ref=db["Name"])

    def glue_table(self, lid: str, props: dict[str, Any]) -> None:
        _client("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])
        self.record(lid, Ref=props["TableInput"]["Name"])

    def ecr_repository(self, lid: str, props: dict[str, Any]) -> None:
        name = props.get("RepositoryName") or self.r.physical_name(lid)
        repo = _client("ecr").create_repository(
            repositoryName=name, imageTagMutability=props.get("ImageTagMutability", "MUTABLE")
        )["repository"]
        self.record(lid, Ref=name, Arn=repo["repositoryArn"], RepositoryUri=repo["repositoryUri"])

    def iam_role(self, lid: str, props: dict[str, Any]) -> None:
        iam = _client("iam")
        name = props.get("RoleName") or self.r.physical_name(lid)
        trust = json.dumps(props["AssumeRolePolicyDocument"])
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        for policy in props.get("Policies", []):
            iam.put_role_policy(
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=json.dumps(policy["PolicyDocument"]),
            )
        self.record(lid, Ref=name, Arn=role["Role"]["Arn"], RoleId=role["Role"]["RoleId"])

    # -- Batch --------------------------------------------------------------------------------
    def batch_compute_environment(self, lid: str, props: dict[str, Any]) -> None:
        """An UNMANAGED stand-in: moto cannot launch GPU instances (and the bridge runs jobs in-process).

        Its ComputeResources (instance types, launch template, subnets) are deliberately not resolved:
        they reference VPC-level resources that exist only on a real account.
        """
        name = props.get("ComputeEnvironmentName") or self.r.physical_name(lid)
        env = _client("batch").create_compute_environment(
            computeEnvironmentName=name,
            type="UNMANAGED",
            state=props.get("State", "ENABLED"),
            serviceRole=self.local_role(),
        )  # moto insists; on AWS the service-linked role is used
        self.record(lid, Ref=env["computeEnvironmentArn"], ComputeEnvironmentArn=env["computeEnvironmentArn"])

    def batch_job_queue(self, lid: str, props: dict[str, Any]) -> None:
        name = props.get("JobQueueName") or self.r.physical_name(lid)
        queue = _client("batch").create_job_queue(
            jobQueueName=name,
            state=props.get("State", "ENABLED"),
            priority=int(props["Priority"]),
            computeEnvironmentOrder=[
                {"order": int(o["Order"]), "computeEnvironment": o["ComputeEnvironment"]}
                for o in props["ComputeEnvironmentOrder"]
            ],
        )
        self.record(lid, Ref=queue["jobQueueArn"], JobQueueArn=queue["jobQueueArn"])
        # moto does not keep them (bridges gap 30): the capacity bridge reads them from here.
        QUEUE_TIME_LIMIT_ACTIONS[queue["jobQueueArn"]] = [
            _lower_keys(action) for action in props.get("JobStateTimeLimitActions", [])
        ]

    def batch_job_definition(self, lid: str, props: dict[str, Any]) -> None:
        name = props.get("JobDefinitionName") or self.r.physical_name(lid)
        job_def = _client("batch").register_job_definition(
            jobDefinitionName=name,
            type=props["Type"],
            containerProperties=_lower_keys(props["ContainerProperties"]),
            retryStrategy=_lower_keys(props.get("RetryStrategy", {})),
            timeout=_lower_keys(props.get("Timeout", {})),
            platformCapabilities=props.get("PlatformCapabilities", ["EC2"]),
            propagateTags=bool(props.get("PropagateTags", False)),
        )
        self.record(lid, Ref=job_def["jobDefinitionArn"], JobDefinitionArn=job_def["jobDefinitionArn"])

    # -- compute and workflow -------------------------------------------------------------------
    def serverless_function(self, lid: str, props: dict[str, Any]) -> None:
        globals_fn = self.r.template.get("Globals", {}).get("Function", {})
        merged = {**globals_fn, **props}
        variables = {
            **globals_fn.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        merged = self.r.resolve(merged)
        variables = {k: str(v) for k, v in self.r.resolve(variables).items()}
        name = merged.get("FunctionName") or self.r.physical_name(lid)
        fn = _client("lambda").create_function(
            FunctionName=name,
            Runtime=merged["Runtime"],
            Role=self.local_role(),
            Handler=merged["Handler"],
            Code={"ZipFile": _tiny_zip()},
            Timeout=int(merged.get("Timeout", 3)),
            MemorySize=int(merged.get("MemorySize", 128)),
            Environment={"Variables": variables},
            Description=merged.get("Description", ""),
            Layers=merged.get("Layers", []),
        )
        self.record(lid, Ref=name, Arn=fn["FunctionArn"])

    def serverless_layer_version(self, lid: str, props: dict[str, Any]) -> None:
        """The layer exists (functions name it); its packages come from the dev venv in-process."""
        name = props.get("LayerName") or self.r.physical_name(lid)
        layer = _client("lambda").publish_layer_version(
            LayerName=name,
            Description=props.get("Description", ""),
            Content={"ZipFile": _tiny_zip()},
            CompatibleRuntimes=props.get("CompatibleRuntimes", []),
        )
        self.record(lid, Ref=layer["LayerVersionArn"], Arn=layer["LayerVersionArn"])

    def serverless_state_machine(self, lid: str, props: dict[str, Any]) -> None:
        definition = (REPO_ROOT / props["DefinitionUri"]).read_text()
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        if "${" in definition:
            raise ValueError(f"{props['DefinitionUri']} has placeholders without a DefinitionSubstitution")
        name = props.get("Name") or self.r.physical_name(lid)
        machine = _client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=self.local_role(), type=props.get("Type", "STANDARD")
        )
        self.record(lid, Ref=machine["stateMachineArn"], Arn=machine["stateMachineArn"], Name=name)

    def events_rule(self, lid: str, props: dict[str, Any]) -> None:
        """The rule, its pattern and its targets (moto delivers to SQS targets; ``local_emulator.ingress``
        has S3 put AWS-shaped events on the bus)."""
        events = _client("events")
        name = props.get("Name") or self.r.physical_name(lid)
        rule = events.put_rule(
            Name=name,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
            Description=props.get("Description", ""),
        )
        if props.get("Targets"):
            events.put_targets(Rule=name, Targets=props["Targets"])
        self.record(lid, Ref=name, Arn=rule["RuleArn"])


_CREATORS: dict[str, Callable[[_Creator, str, dict[str, Any]], None]] = {
    "AWS::S3::Bucket": _Creator.s3_bucket,
    "AWS::DynamoDB::Table": _Creator.dynamodb_table,
    "AWS::SQS::Queue": _Creator.sqs_queue,
    "AWS::Logs::LogGroup": _Creator.log_group,
    "AWS::Glue::Database": _Creator.glue_database,
    "AWS::Glue::Table": _Creator.glue_table,
    "AWS::ECR::Repository": _Creator.ecr_repository,
    "AWS::IAM::Role": _Creator.iam_role,
    "AWS::Batch::ComputeEnvironment": _Creator.batch_compute_environment,
    "AWS::Batch::JobQueue": _Creator.batch_job_queue,
    "AWS::Batch::JobDefinition": _Creator.batch_job_definition,
    "AWS::Serverless::Function": _Creator.serverless_function,
    "AWS::Serverless::LayerVersion": _Creator.serverless_layer_version,
    "AWS::Serverless::StateMachine": _Creator.serverless_state_machine,
    "AWS::Events::Rule": _Creator.events_rule,
}
# Properties that reference resources which exist only on a real account (see batch_compute_environment).
_UNRESOLVED_TYPES = {"AWS::Batch::ComputeEnvironment"}


def _references(node: Any, logical_ids: set[str]) -> set[str]:
    """Logical ids a template fragment depends on (Ref, GetAtt, and ${...} inside Sub)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _references(item, logical_ids)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in logical_ids:
                found.add(value)
            elif key == "Fn::GetAtt":
                found |= {value[0] if isinstance(value, list) else value.split(".")[0]} & logical_ids
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!][^}]*)\}", text)} & logical_ids
                if not isinstance(value, str):
                    found |= _references(value[1], logical_ids)
            else:
                found |= _references(value, logical_ids)
    return found


def _creation_order(resources: dict[str, dict[str, Any]], globals_fn: dict[str, Any]) -> list[str]:
    """Emulated resources in dependency order (the same order CloudFormation would create them)."""
    emulated = {lid for lid, r in resources.items() if r["Type"] in _CREATORS}
    deps: dict[str, set[str]] = {}
    for lid in emulated:
        resource = resources[lid]
        if resource["Type"] in _UNRESOLVED_TYPES:
            deps[lid] = set()
            continue
        scope: Any = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            scope = [scope, globals_fn]
        deps[lid] = _references(scope, set(resources)) - {lid}
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(emulated):
        ready = sorted(lid for lid in emulated - done if deps[lid] <= done)
        if not ready:
            blocked = {lid: sorted(deps[lid] - done) for lid in emulated - done}
            raise ValueError(f"cannot create locally, missing or circular references: {blocked}")
        order.extend(ready)
        done.update(ready)
    return order


def deploy(
    stack_name: str = STACK_NAME,
    parameter_overrides: dict[str, str] | None = None,
    template_path: Path = TEMPLATE_PATH,
    template: dict[str, Any] | None = None,
) -> LocalDeployment:
    """Create every emulated resource of the template (``template`` if given, as written, else the
    file); call inside an active ``mock_aws``. ``Fn::ForEach`` loops expand for these parameters."""
    written = read_template(template_path) if template is None else template
    resolver = Resolver(written, stack_name, dict(parameter_overrides or {}))
    creator = _Creator(resolver)
    resources = resolver.resources()
    globals_fn = resolver.template.get("Globals", {}).get("Function", {})
    for lid in _creation_order(resources, globals_fn):
        resource = resources[lid]
        props = resource.get("Properties", {})
        if resource["Type"] not in _UNRESOLVED_TYPES:
            props = resolver.resolve(props)
        _CREATORS[resource["Type"]](creator, lid, props)
    types = {lid: r["Type"] for lid, r in resources.items()}
    not_emulated = sorted(f"{lid} ({t})" for lid, t in types.items() if t not in _CREATORS)
    return LocalDeployment(
        resolver=resolver, physical=resolver.physical, resource_types=types, not_emulated=not_emulated
    )
