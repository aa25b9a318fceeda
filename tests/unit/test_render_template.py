"""Specification of scripts/render_template.py's LanguageExtensions step: what checkov and cfn-lint read
is what CloudFormation deploys (issue 22: ``Fn::ToJsonString`` used to stay in place)."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from local_emulator.template import REPO_ROOT, Resolver, load_template


def render_module() -> Any:
    path = REPO_ROOT / "scripts" / "render_template.py"
    spec = importlib.util.spec_from_file_location("render_template", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_to_json_string_gives_a_plain_string_when_nothing_waits_for_the_deployment() -> None:
    value = {"start": "-PT24H", "widgets": [{"x": 0, "title": 'a "quoted" ${word}', "on": True}]}
    assert render_module().to_json_string(value) == json.dumps(value, separators=(",", ":"))


def test_a_literal_dollar_brace_survives_beside_the_deployments_values() -> None:
    value = {"title": "cost ${x}", "arn": {"Ref": "AWS::Region"}}
    rendered = render_module().to_json_string(value)
    resolver = Resolver(template=load_template(), stack_name="s")
    assert json.loads(resolver.resolve(rendered)) == {"title": "cost ${x}", "arn": "us-east-1"}


def test_to_json_string_joins_the_deployments_values_into_the_json_text() -> None:
    # Given the template's dashboard body, with GetAtt and Ref inside
    render = render_module()
    template = load_template()
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::ToJsonString"]
    rendered = render.to_json_string(body)
    # Then it is one Fn::Sub string whose variables are the intrinsics, no Fn::ToJsonString left
    assert set(rendered) == {"Fn::Sub"} and "Fn::ToJsonString" not in json.dumps(rendered)
    # and once CloudFormation resolves the intrinsics, the string is the body's JSON, value for value
    resolver = Resolver(template=template, stack_name="s")
    resolver.physical = _Everything()  # type: ignore[assignment]
    assert json.loads(resolver.resolve(rendered)) == resolver.resolve(body)


class _Everything(dict):  # type: ignore[type-arg]
    """Every resource's every attribute, named after it (what a deployment would fill in)."""

    def __missing__(self, logical_id: str) -> dict[str, str]:
        return _Attributes(logical_id)


class _Attributes(dict):  # type: ignore[type-arg]
    def __init__(self, logical_id: str) -> None:
        super().__init__()
        self.logical_id = logical_id

    def __missing__(self, attribute: str) -> str:
        return f"{self.logical_id}.{attribute}"
