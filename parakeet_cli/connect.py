"""Reach a stack: boto3 clients (AWS, or the local stack behind an endpoint URL) and its resource names.

A deployed stack is found by name (``--stack``): its CloudFormation outputs (template.yaml ``Outputs``)
name the buckets, the catalog table and the state machine, so nothing is configured twice. The local
stack (``--local``) is found the same way at its endpoint: whoever serves it (``make serve``) publishes
the same outputs as a CloudFormation stack named ``parakeet-local`` with :func:`publish_local_stack`, so
``aws cloudformation describe-stacks`` and this CLI read it exactly as they would read AWS.

Clients come from a `ClientFactory` (service name -> boto3 client). Commands never build clients
themselves: tests pass a factory (under moto's ``mock_aws`` a plain ``boto3.client`` needs no endpoint).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pipeline.exact_upload import error_code, error_message

from parakeet_cli.exits import AwsError, NotFound

LOCAL_STACK_NAME = "parakeet-local"
DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4566"
ENDPOINT_ENV = "PARAKEET_ENDPOINT_URL"
LOCAL_REGION = "us-east-1"
# moto's server accepts any credentials; a person running the local stack may have none configured.
LOCAL_CREDENTIALS = {"aws_access_key_id": "parakeet-local", "aws_secret_access_key": "parakeet-local"}

ClientFactory = Callable[[str], Any]

# template.yaml Outputs the commands need -> StackNames field.
REQUIRED_OUTPUTS = {
    "InputBucketName": "input_bucket",
    "OutputBucketName": "output_bucket",
    "CatalogTableName": "catalog_table",
    "StateMachineArn": "state_machine_arn",
}
CATALOG_STATUS_INDEX = "by-status"  # template.yaml CatalogTable GlobalSecondaryIndexes


def local_endpoint(endpoint_url: str | None = None) -> str:
    return endpoint_url or os.environ.get(ENDPOINT_ENV) or DEFAULT_LOCAL_ENDPOINT


def boto3_clients(
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    local: bool = False,
) -> ClientFactory:
    """One client per service, created on first use. ``local``: the endpoint defaults to the local
    stack's and missing credentials or region are filled with placeholders moto accepts."""
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region)
    region_name = region or session.region_name or (LOCAL_REGION if local else None)
    extra: dict[str, Any] = {}
    if local:
        endpoint_url = local_endpoint(endpoint_url)
        if session.get_credentials() is None:
            extra.update(LOCAL_CREDENTIALS)
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=60)

    @cache
    def client(service: str) -> Any:
        # Any: the service is named at run time, which boto3-stubs' per-service overloads cannot type.
        factory: Any = session.client
        return factory(service, region_name=region_name, endpoint_url=endpoint_url, config=config, **extra)

    return client


@contextlib.contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """botocore's errors (API errors, no credentials, endpoint unreachable) as `AwsError`."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        raise AwsError(
            f"{what}: {code or 'ClientError'}: {error_message(exc) or exc}", aws_code=code or None
        ) from exc
    except BotoCoreError as exc:
        raise AwsError(f"{what}: {exc}", aws_code=type(exc).__name__) from exc


@dataclass(frozen=True)
class StackNames:
    """What the commands need to know about one stack, from its CloudFormation outputs."""

    stack_name: str
    region: str
    input_bucket: str
    output_bucket: str
    catalog_table: str
    state_machine_arn: str
    local: bool = False
    endpoint_url: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_outputs(
        cls,
        stack_name: str,
        region: str,
        outputs: dict[str, str],
        local: bool = False,
        endpoint_url: str | None = None,
    ) -> StackNames:
        missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
        if missing:
            raise NotFound(
                f"stack {stack_name!r} has no output {', '.join(missing)}: not a parakeet stack?",
                stack=stack_name,
                missing_outputs=missing,
            )
        named = {attr: outputs[name] for name, attr in REQUIRED_OUTPUTS.items()}
        return cls(
            stack_name=stack_name,
            region=region,
            local=local,
            endpoint_url=endpoint_url,
            outputs=dict(outputs),
            **named,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack_name,
            "region": self.region,
            "local": self.local,
            "endpoint_url": self.endpoint_url,
            "input_bucket": self.input_bucket,
            "output_bucket": self.output_bucket,
            "catalog_table": self.catalog_table,
            "state_machine_arn": self.state_machine_arn,
        }


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        message = error_message(exc)
        if error_code(exc) == "ValidationError" and "does not exist" in message:
            raise NotFound(f"no stack named {stack_name!r}", stack=stack_name) from exc
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def resolve_stack(
    clients: ClientFactory, stack_name: str, local: bool = False, endpoint_url: str | None = None
) -> StackNames:
    cloudformation = clients("cloudformation")
    where = f" at {endpoint_url}" if local and endpoint_url else ""
    try:
        with aws_errors(f"reading the outputs of stack {stack_name!r}{where}"):
            outputs = stack_outputs(cloudformation, stack_name)
    except NotFound as exc:
        if local:
            raise NotFound(
                f"no local stack {stack_name!r}{where}: start it with `make serve`",
                stack=stack_name,
                endpoint_url=endpoint_url,
            ) from exc
        raise
    region = str(cloudformation.meta.region_name)
    return StackNames.from_outputs(stack_name, region, outputs, local, endpoint_url)


@dataclass
class Stack:
    """A resolved stack and the clients that reach it: what every stack command works with."""

    names: StackNames
    clients: ClientFactory

    def client(self, service: str) -> Any:
        return self.clients(service)

    def console_url(self, execution_arn: str | None) -> str | None:
        """The execution in the Step Functions console (none for the local stack: it has no console)."""
        if not execution_arn or self.names.local:
            return None
        region = execution_arn.split(":")[3] or self.names.region
        return (
            f"https://{region}.console.aws.amazon.com/states/home?region={region}"
            f"#/v2/executions/details/{execution_arn}"
        )

    def execution_arn(self, name: str) -> str:
        """The ARN an execution of this stack's state machine gets for a name."""
        return self.names.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


# ---------------------------------------------------------------- the local stack's outputs
def local_outputs(deployment: Any) -> dict[str, str]:
    """template.yaml's Outputs evaluated for a local deployment (local_emulator.aws.LocalDeployment):
    the names `deploy` created, exactly as CloudFormation would report them."""
    resolver = deployment.resolver
    outputs = {}
    for name, spec in resolver.template.get("Outputs", {}).items():
        with contextlib.suppress(KeyError):  # an output of a resource the emulator does not create
            outputs[name] = str(resolver.resolve(spec["Value"]))
    return outputs


def publish_local_stack(
    deployment: Any, cloudformation: Any = None, stack_name: str = LOCAL_STACK_NAME
) -> dict[str, str]:
    """Publish a local deployment's outputs as a CloudFormation stack (in moto, in-process or served),
    so that ``parakeet --local`` and ``aws cloudformation describe-stacks`` find the local names.

    The stack holds one inert resource (CloudFormation needs one); the real resources were created by
    local_emulator.aws.deploy. Call inside the same moto that holds the deployment."""
    import json

    if cloudformation is None:
        import boto3

        cloudformation = boto3.client("cloudformation", region_name=LOCAL_REGION)
    outputs = local_outputs(deployment)
    template = {
        "Description": "parakeet local stack: outputs of local_emulator.aws.deploy (parakeet_cli.connect)",
        "Resources": {"LocalStackMarker": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    with contextlib.suppress(ClientError):
        cloudformation.delete_stack(StackName=stack_name)
    with warnings.catch_warnings():  # moto: "WaitConditionHandle ... not supported" (it needs no backend)
        warnings.simplefilter("ignore")
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
    return outputs
