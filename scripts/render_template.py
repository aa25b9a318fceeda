"""Write template.yaml as CloudFormation deploys it, as JSON: the input of checkov (make security).

checkov cannot read template.yaml itself: its YAML loader rejects `!Ref {Fn::Sub: ...}` (how the
template names looped parameters) and it does not expand `Fn::ForEach`; `sam build`'s
`.aws-sam/build/template.yaml` keeps both. So this applies the two transforms of the template's
`Transform` line in order, offline:

1. `AWS::LanguageExtensions`: `local_emulator.template.load_template()`, the `Fn::ForEach` expansion
   for the parameter defaults that the emulator and the template tests use, and `Fn::ToJsonString`
   (`to_json_string`): the object becomes the JSON string CloudFormation deploys; the values only the
   deployment knows (a `!GetAtt` of a resource, a `!Ref`) stay intrinsics, `Fn::Sub` variables of
   that string (a property typed String, e.g. a dashboard's `DashboardBody`, gets a string);
2. `AWS::Serverless-2016-10-31`: the SAM translator of the pinned SAM CLI (this runs in `.venv-sam`),
   with local `CodeUri`/`ContentUri`/`DefinitionUri` replaced by S3 placeholders as `sam package`
   would. The result is plain CloudFormation, including the IAM roles SAM generates from `Policies`.

SAM copies a function's `Metadata` (and so its `checkov: skip:` list) to the AWS::Lambda::Function it
generates; the IAM roles it generates from `Policies` carry none, so a finding there must be fixed.

`--inline-definitions` puts each state machine's definition (statemachine/*.asl.json) in the template
as `Definition`, with its `DefinitionSubstitutions`, instead of the S3 location `sam package` uploads it
to: the same definition CloudFormation hands Step Functions, where cfn-lint's E3601 can check it
(make lint, scripts/service_lint.sh).

    AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/python scripts/render_template.py \
        [--inline-definitions] OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local_emulator.template import load_template  # noqa: E402

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
LOCAL_URIS = ("CodeUri", "ContentUri", "DefinitionUri")
STATE_MACHINE = "AWS::Serverless::StateMachine"
INTRINSICS = {
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::If",
    "Fn::Select",
    "Fn::Split",
    "Fn::ImportValue",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::Length",
}
# Values for the parameters without a default and for the pseudo parameters (no account is asked).
PLACEHOLDERS = {
    "VpcId": "vpc-00000000",
    "SubnetIds": ["subnet-00000000"],
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "stack",
}


class _NoManagedPolicies:
    """The template names managed policies by ARN only: the translator needs no name lookup."""

    def load(self) -> dict[str, str]:
        return {}


def _is_intrinsic(node: Any) -> bool:
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)) in INTRINSICS


def to_json_string(value: Any) -> Any:
    """``Fn::ToJsonString`` as the LanguageExtensions transform applies it: compact JSON text; a value
    only the deployment knows (an intrinsic) stays for CloudFormation to fill in, as a ``Fn::Sub``
    variable in place of its JSON string."""
    variables: dict[str, Any] = {}
    text: list[str] = []

    def emit(node: Any) -> None:
        if _is_intrinsic(node):
            name = f"V{len(variables)}"
            variables[name] = node
            text.append('"${' + name + '}"')
        elif isinstance(node, dict):
            text.append("{")
            for index, (key, item) in enumerate(node.items()):
                text.append(("," if index else "") + _literal(json.dumps(key)) + ":")
                emit(item)
            text.append("}")
        elif isinstance(node, list):
            text.append("[")
            for index, item in enumerate(node):
                text.append("," if index else "")
                emit(item)
            text.append("]")
        else:
            text.append(_literal(json.dumps(node)))

    emit(value)
    joined = "".join(text)
    return {"Fn::Sub": [joined, variables]} if variables else joined.replace("${!", "${")


def _literal(text: str) -> str:
    """JSON text as a literal inside Fn::Sub (a ``${`` of its own is escaped as ``${!``)."""
    return text.replace("${", "${!")


def _language_extensions(node: Any) -> Any:
    """Every ``Fn::ToJsonString`` in the template replaced by what the transform makes of it."""
    if isinstance(node, list):
        return [_language_extensions(item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::ToJsonString"}:
        return to_json_string(node["Fn::ToJsonString"])
    return {key: _language_extensions(item) for key, item in node.items()}


def _inline_definitions(template: dict[str, Any]) -> dict[str, Any]:
    """Each state machine's ``DefinitionUri`` file as its ``Definition`` (the substitutions stay)."""
    for body in template["Resources"].values():
        props = body.get("Properties", {})
        if body["Type"] == STATE_MACHINE and isinstance(props.get("DefinitionUri"), str):
            props["Definition"] = json.loads((ROOT / props.pop("DefinitionUri")).read_text())
    return template


def _packaged(template: dict[str, Any]) -> dict[str, Any]:
    """Local code locations replaced by S3 placeholders, as `sam package` leaves them."""
    for section in (template.get("Globals", {}).values(), template["Resources"].values()):
        for body in section:
            props = body.get("Properties", body)
            for key in LOCAL_URIS:
                if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                    props[key] = f"s3://packaged-artifacts/{key}"
    return template


def render(inline_definitions: bool = False) -> dict[str, Any]:
    from samtranslator.translator.transform import transform  # .venv-sam's SAM translator (see above)

    sam = _language_extensions(load_template())
    if inline_definitions:
        sam = _inline_definitions(sam)
    transforms = sam["Transform"] if isinstance(sam["Transform"], list) else [sam["Transform"]]
    if transforms[-1] != SAM_TRANSFORM:
        raise SystemExit(f"expected {SAM_TRANSFORM} as the last transform, found {transforms}")
    sam["Transform"] = SAM_TRANSFORM  # the language extensions are applied by load_template()
    parameters = {
        name: spec["Default"] for name, spec in sam.get("Parameters", {}).items() if "Default" in spec
    }
    rendered: dict[str, Any] = transform(_packaged(sam), {**parameters, **PLACEHOLDERS}, _NoManagedPolicies())
    return rendered


def main(argv: list[str]) -> int:
    inline = "--inline-definitions" in argv
    paths = [a for a in argv if a != "--inline-definitions"]
    if len(paths) != 1:
        raise SystemExit(__doc__)
    Path(paths[0]).write_text(json.dumps(render(inline_definitions=inline), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
