"""The rendered template (scripts/render_template.py: plain CloudFormation, as it deploys) with every
intrinsic resolved to placeholder physical ids, so offline checkers can read what AWS will read.

What each checker needs, extracted here once (``make lint``: scripts/service_lint.sh; the permission
map: tests/permission_map.py):

- every state machine's definition with its ``DefinitionSubstitutions`` applied (asl-validator checks
  what Step Functions receives, ARNs included, not the ``${...}`` placeholders of the file);
- every IAM policy document of every role (SAM's policy templates already expanded by the
  translator), its ``Resource`` ARNs resolved (parliament matches ARNs against each action's resource
  types).

Placeholders follow each resource type's ARN format (account 123456789012, us-east-1, physical
names ``<stack>-<LogicalId>``), which is all the checkers look at. Intrinsics are resolved by
``local_emulator.template.Resolver``, the emulator's own, with conditions at the parameter defaults.

    .venv-sam/bin/python -m local_emulator.rendered RENDERED.json OUT_DIR   # OUT_DIR/asl, OUT_DIR/policies
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from local_emulator.template import ACCOUNT_ID, NO_VALUE, REGION, Resolver

STACK = "stack"
_ARN = f"arn:aws:{{service}}:{REGION}:{ACCOUNT_ID}:{{rest}}"
# Resource type -> (Ref, Arn) for a physical name; attributes beyond Arn are below.
_FORMATS: dict[str, tuple[str, str]] = {
    "AWS::Lambda::Function": ("{name}", _ARN.format(service="lambda", rest="function:{name}")),
    "AWS::StepFunctions::StateMachine": (_ARN.format(service="states", rest="stateMachine:{name}"),) * 2,
    "AWS::SQS::Queue": (
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{{name}}",
        _ARN.format(service="sqs", rest="{name}"),
    ),
    "AWS::S3::Bucket": ("{name}", "arn:aws:s3:::{name}"),
    "AWS::DynamoDB::Table": ("{name}", _ARN.format(service="dynamodb", rest="table/{name}")),
    "AWS::IAM::Role": ("{name}", f"arn:aws:iam::{ACCOUNT_ID}:role/{{name}}"),
    "AWS::IAM::ManagedPolicy": (f"arn:aws:iam::{ACCOUNT_ID}:policy/{{name}}",) * 2,
    "AWS::IAM::InstanceProfile": ("{name}", f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{{name}}"),
    "AWS::SNS::Topic": (_ARN.format(service="sns", rest="{name}"),) * 2,
    "AWS::KMS::Key": ("{name}", _ARN.format(service="kms", rest="key/{name}")),
    "AWS::Logs::LogGroup": ("{name}", _ARN.format(service="logs", rest="log-group:{name}:*")),
    "AWS::Batch::JobQueue": (_ARN.format(service="batch", rest="job-queue/{name}"),) * 2,
    "AWS::Batch::JobDefinition": (_ARN.format(service="batch", rest="job-definition/{name}:1"),) * 2,
    "AWS::Batch::ComputeEnvironment": (_ARN.format(service="batch", rest="compute-environment/{name}"),) * 2,
    "AWS::ECR::Repository": ("{name}", _ARN.format(service="ecr", rest="repository/{name}")),
    "AWS::Events::Rule": ("{name}", _ARN.format(service="events", rest="rule/{name}")),
    "AWS::CloudWatch::Alarm": ("{name}", _ARN.format(service="cloudwatch", rest="alarm:{name}")),
    "AWS::Lambda::LayerVersion": (_ARN.format(service="lambda", rest="layer:{name}:1"),) * 2,
    "AWS::Glue::Database": ("{name}", _ARN.format(service="glue", rest="database/{name}")),
    "AWS::Athena::WorkGroup": ("{name}", _ARN.format(service="athena", rest="workgroup/{name}")),
}


_NAME_PROPERTIES = (
    "FunctionName",
    "StateMachineName",
    "QueueName",
    "BucketName",
    "TableName",
    "RoleName",
    "TopicName",
    "RepositoryName",
    "LogGroupName",
    "JobQueueName",
    "JobDefinitionName",
    "ComputeEnvironmentName",
    "ManagedPolicyName",
    "Name",
)


class _Physical(dict):  # type: ignore[type-arg]
    """logical id -> its attributes, made up on first use from the resource's type and its name
    property when the template gives one (a named state machine's policy names it)."""

    def __init__(self, resolve: Resolver) -> None:
        super().__init__()
        self.resolve = resolve

    def __missing__(self, logical_id: str) -> dict[str, str]:
        resource = self.resolve.template["Resources"][logical_id]
        kind = resource["Type"]
        props = resource.get("Properties", {})
        given = next((props[p] for p in _NAME_PROPERTIES if p in props), None)
        name = str(self.resolve.resolve(given)) if given is not None else f"{STACK}-{logical_id}"
        ref, arn = (
            f.format(name=name)
            for f in _FORMATS.get(
                kind, ("{name}", _ARN.format(service=kind.split("::")[1].lower(), rest="{name}"))
            )
        )
        attributes = {
            "Ref": ref,
            "Arn": arn,
            "Name": name,
            "QueueName": name,
            "QueueUrl": ref,
            "JobQueueArn": arn,
            "ComputeEnvironmentArn": arn,
            "TopicArn": arn,
            "RepositoryUri": f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{name}",
            "LatestVersionNumber": "1",
            "StreamArn": f"{arn}/stream/1",
        }
        self[logical_id] = attributes
        return attributes


def resolver(rendered: dict[str, Any]) -> Resolver:
    """The emulator's resolver over the rendered template, every resource given a placeholder."""
    resolve = Resolver(template=rendered, stack_name=STACK)
    resolve.physical = _Physical(resolve)  # type: ignore[assignment]
    return resolve


def definitions(rendered: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """State machine logical id -> its definition as Step Functions receives it."""
    resolve = resolver(rendered)
    found: dict[str, dict[str, Any]] = {}
    for lid, resource in resolve.resources().items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = resource["Properties"]
        text = props.get("DefinitionString")
        text = json.dumps(props["Definition"]) if text is None else resolve.resolve(text)
        for key, value in resolve.resolve(props.get("DefinitionSubstitutions", {})).items():
            text = text.replace("${" + key + "}", str(value))
        found[lid] = json.loads(text)
    return found


def policies(rendered: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``<role>.<policy name>`` -> its policy document, resolved (roles' inline and managed policies)."""
    resolve = resolver(rendered)
    found: dict[str, dict[str, Any]] = {}
    for lid, resource in resolve.resources().items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                document = resolve.resolve(policy)
                if document is not NO_VALUE and document:
                    found[f"{lid}.{document['PolicyName']}"] = document["PolicyDocument"]
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            found[f"{lid}.managed"] = resolve.resolve(props["PolicyDocument"])
    return found


def role_statements(rendered: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Role logical id -> every statement its inline policies and attached managed policies (of this
    template) allow or deny, resolved."""
    resolve = resolver(rendered)
    documents = policies(rendered)
    by_role: dict[str, list[dict[str, Any]]] = {}
    for lid, resource in resolve.resources().items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        statements = [s for name, d in documents.items() if name.split(".")[0] == lid for s in d["Statement"]]
        for managed in resource["Properties"].get("ManagedPolicyArns", []):
            if isinstance(managed, dict) and "Ref" in managed and f"{managed['Ref']}.managed" in documents:
                statements += documents[f"{managed['Ref']}.managed"]["Statement"]
        by_role[lid] = statements
    return by_role


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    rendered = json.loads(Path(argv[0]).read_text())
    out = Path(argv[1])
    for folder, documents in (("asl", definitions(rendered)), ("policies", policies(rendered))):
        (out / folder).mkdir(parents=True, exist_ok=True)
        for name, document in documents.items():
            (out / folder / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
