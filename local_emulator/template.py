"""Read ``template.yaml`` and resolve its intrinsic functions for a local (moto) deployment.

The local emulator builds its resources from the same template that ``sam deploy`` uses, so the
two cannot drift: there is no second list of buckets, functions or job definitions. cfn-lint's
YAML loader understands the short CloudFormation tags (``!Ref``, ``!Sub``, ...); this module
evaluates the handful of intrinsics the template uses against locally chosen physical names.

The template uses the ``AWS::LanguageExtensions`` transform for ``Fn::ForEach`` (one loop writes
every GPU size class). :func:`expand_for_each` applies it the way CloudFormation does before the
SAM transform runs, for the forms the template uses: a collection that is a list or a ``Ref`` to a
``CommaDelimitedList`` parameter, ``${Identifier}`` in keys and in ``Fn::Sub`` strings (a ``Sub`` left
without variables is its string, which is how ``Ref``/``Fn::GetAtt`` name a looped logical id), and
``{"Ref": Identifier}``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
NO_VALUE = object()

# Parameters without a default only matter to the real deployment (VPC, subnets).
_LOCAL_PLACEHOLDERS = {
    "AWS::EC2::VPC::Id": "vpc-local",
    "List<AWS::EC2::Subnet::Id>": "subnet-local",
}


FOR_EACH_PREFIX = "Fn::ForEach::"


def read_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as written, as plain dicts/lists (cfn-lint's node classes converted away)."""
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template with ``Fn::ForEach`` expanded for the parameters' defaults (what SAM then sees)."""
    template = read_template(path)
    return expand_for_each(template, parameter_values(template, {}))


def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Override, else default, else a local placeholder; list-typed parameters become lists."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        raw = overrides.get(name, spec.get("Default"))
        if raw is None:
            raw = _LOCAL_PLACEHOLDERS.get(spec["Type"], f"local-{name}")
        if spec["Type"].startswith("List<") or spec["Type"] == "CommaDelimitedList":
            values[name] = raw if isinstance(raw, list) else [s.strip() for s in str(raw).split(",")]
        else:
            values[name] = str(raw)
    return values


def expand_for_each(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """A copy of the template with every ``Fn::ForEach::<Loop>`` key replaced by its expansion.

    Loops may nest and may stand wherever a map is expected (Resources, a resource's properties).
    Two loops that produce the same key are an error, as in CloudFormation.
    """
    return {
        section: _expand(body, parameters, {}) if section != "Parameters" else body
        for section, body in template.items()
    }


def _expand(node: Any, parameters: dict[str, Any], bound: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_expand(item, parameters, bound) for item in node]
    if not isinstance(node, dict):
        return node
    if bound and set(node) == {"Ref"} and isinstance(node["Ref"], str) and node["Ref"] in bound:
        return bound[node["Ref"]]
    if bound and set(node) == {"Fn::Sub"}:
        arg = node["Fn::Sub"]
        text = arg if isinstance(arg, str) else arg[0]
        rest = [] if isinstance(arg, str) else [_expand(a, parameters, bound) for a in arg[1:]]
        text = _substitute(text, bound)
        if not rest and "${" not in text:
            return text
        return {"Fn::Sub": [text, *rest] if rest else text}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith(FOR_EACH_PREFIX):
            identifier, collection, body = value
            if isinstance(collection, dict):  # a Ref to a CommaDelimitedList parameter
                collection = parameters[collection["Ref"]]
            items = [{identifier: str(item)} for item in collection]
            expanded = [_expand(body, parameters, {**bound, **item}) for item in items]
        else:
            expanded = [{_substitute(key, bound): _expand(value, parameters, bound)}]
        for fragment in expanded:
            clash = set(out) & set(fragment)
            if clash:
                raise ValueError(f"{key} produces keys that already exist: {sorted(clash)}")
            out.update(fragment)
    return out


def _substitute(text: str, bound: dict[str, str]) -> str:
    for identifier, value in bound.items():
        text = text.replace("${" + identifier + "}", value)
    return text


@dataclass
class Resolver:
    """Evaluates ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If`` ... for one local stack."""

    template: dict[str, Any]
    stack_name: str
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    # Physical values known once a resource exists locally: logical id -> {"Ref": ..., "Arn": ...}.
    physical: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.parameters = parameter_values(self.template, self.parameter_overrides)
        # The template as CloudFormation hands it to the SAM transform (a no-op if already expanded).
        self.template = expand_for_each(self.template, self.parameters)
        self.conditions = {
            name: bool(self.resolve(expr)) for name, expr in self.template.get("Conditions", {}).items()
        }

    # -- names ----------------------------------------------------------------------------------
    def physical_name(self, logical_id: str) -> str:
        """Deterministic local name, lower-case so it is also a valid bucket name."""
        return f"{self.stack_name}-{logical_id}".lower()

    def resources(self) -> dict[str, dict[str, Any]]:
        """Resources whose Condition (if any) holds."""
        return {
            lid: r
            for lid, r in self.template["Resources"].items()
            if "Condition" not in r or self.conditions[r["Condition"]]
        }

    # -- intrinsics -----------------------------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._attribute(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.conditions[name] else when_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.resolve(items))
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Condition":
                return self.conditions[arg]
            if key == "Fn::ToJsonString":  # AWS::LanguageExtensions (the dashboard body)
                return json.dumps(self.resolve(arg), separators=(",", ":"))
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            # Deterministic per stack name (CloudFormation's is a new UUID per creation).
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{self.stack_name}/"
            f"{uuid.uuid5(uuid.NAMESPACE_URL, self.stack_name)}",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self._attribute(name, "Ref")

    def _attribute(self, logical_id: str, attribute: str) -> str:
        try:
            return self.physical[logical_id][attribute]
        except KeyError:
            message = f"{logical_id}.{attribute} is not known locally (not created yet, or not emulated)"
            raise KeyError(message) from None

    def _sub(self, arg: str | list[Any]) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self._attribute(logical_id, attribute))
            value = self._ref(name)
            return ",".join(value) if isinstance(value, list) else str(value)

        # `${!Name}` is CloudFormation's escape for a literal `${Name}` (Glue's storage.location.template)
        return re.sub(r"\$\{([^}!][^}]*)\}", replace, text).replace("${!", "${")
