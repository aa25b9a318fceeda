"""Write template.yaml as CloudFormation deploys it, as JSON: the input of checkov (make security).

checkov cannot read template.yaml itself: its YAML loader rejects `!Ref {Fn::Sub: ...}` (how the
template names looped parameters) and it does not expand `Fn::ForEach`; `sam build`'s
`.aws-sam/build/template.yaml` keeps both. So this applies the two transforms of the template's
`Transform` line in order, offline:

1. `AWS::LanguageExtensions`: `local_emulator.template.load_template()`, the `Fn::ForEach` expansion
   for the parameter defaults that the emulator and the template tests use;
2. `AWS::Serverless-2016-10-31`: the SAM translator of the pinned SAM CLI (this runs in `.venv-sam`),
   with local `CodeUri`/`ContentUri`/`DefinitionUri` replaced by S3 placeholders as `sam package`
   would. The result is plain CloudFormation, including the IAM roles SAM generates from `Policies`.

SAM copies a function's `Metadata` (and so its `checkov: skip:` list) to the AWS::Lambda::Function it
generates; the IAM roles it generates from `Policies` carry none, so a finding there must be fixed.

    AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/python scripts/render_template.py OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from samtranslator.translator.transform import transform  # noqa: E402

from local_emulator.template import load_template  # noqa: E402

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
LOCAL_URIS = ("CodeUri", "ContentUri", "DefinitionUri")
# Values for the parameters without a default and for the pseudo parameters (no account is asked).
PLACEHOLDERS = {"VpcId": "vpc-00000000", "SubnetIds": ["subnet-00000000"], "AWS::Region": "us-east-1",
                "AWS::AccountId": "123456789012", "AWS::Partition": "aws", "AWS::StackName": "stack"}


class _NoManagedPolicies:
    """The template names managed policies by ARN only: the translator needs no name lookup."""

    def load(self) -> dict[str, str]:
        return {}


def _packaged(template: dict[str, Any]) -> dict[str, Any]:
    """Local code locations replaced by S3 placeholders, as `sam package` leaves them."""
    for section in (template.get("Globals", {}).values(), template["Resources"].values()):
        for body in section:
            props = body.get("Properties", body)
            for key in LOCAL_URIS:
                if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                    props[key] = f"s3://packaged-artifacts/{key}"
    return template


def render() -> dict[str, Any]:
    sam = load_template()
    transforms = sam["Transform"] if isinstance(sam["Transform"], list) else [sam["Transform"]]
    if transforms[-1] != SAM_TRANSFORM:
        raise SystemExit(f"expected {SAM_TRANSFORM} as the last transform, found {transforms}")
    sam["Transform"] = SAM_TRANSFORM  # the language extensions are applied by load_template()
    parameters = {name: spec["Default"] for name, spec in sam.get("Parameters", {}).items()
                  if "Default" in spec}
    rendered: dict[str, Any] = transform(_packaged(sam), {**parameters, **PLACEHOLDERS}, _NoManagedPolicies())
    return rendered


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    Path(argv[0]).write_text(json.dumps(render(), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
