"""template.yaml hands every setting of pipeline.settings.Settings to the code that reads it.

The Lambdas and the Batch job read the same environment names; the template's parameters set them.
A parameter default that differs from the code's default, or a setting that reaches the planner but
not the job, makes the two disagree about a mode or about what is "too long".
"""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pipeline.settings import Settings

from local_emulator.template import load_template

ENV_NAMES = Settings.environment_names()


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def lambda_environment(template: dict[str, Any]) -> dict[str, Any]:
    return template["Globals"]["Function"]["Environment"]["Variables"]


def job_definitions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Batch::JobDefinition"}


def parameter_name(value: Any) -> str | None:
    """The parameter a variable is set from: ``!Ref P``, or ``!Join [",", !Ref P]`` for a list parameter."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, joined = value["Fn::Join"]
        value = joined if separator == "," else None
    return value.get("Ref") if isinstance(value, dict) else None


def test_every_setting_reaches_the_lambdas_from_a_template_parameter(template: dict[str, Any]) -> None:
    variables = lambda_environment(template)
    for env_name in ENV_NAMES.values():
        assert parameter_name(variables.get(env_name)) in template["Parameters"], env_name


def test_the_template_parameter_defaults_are_the_settings_defaults(template: dict[str, Any]) -> None:
    # Given the parameter each setting's variable is set from
    variables = lambda_environment(template)
    for field_name, env_name in ENV_NAMES.items():
        parameter = template["Parameters"][parameter_name(variables[env_name])]
        # Then its default is the code's default, so an unset variable and a default stack agree
        default = Settings.model_fields[field_name].default
        if isinstance(default, bool):  # REDACT_AUDIO: a "true"/"false" parameter
            assert str(parameter["Default"]) == str(default).lower(), env_name
        elif isinstance(default, str):
            assert str(parameter["Default"]) == default, env_name
            allowed = set(get_args(Settings.model_fields[field_name].annotation))
            if allowed:  # a choice (CHANNEL_MODE): the parameter offers exactly its values
                assert set(parameter["AllowedValues"]) == allowed, env_name
        else:
            assert float(parameter["Default"]) == default, env_name


def test_max_duration_is_24_hours_everywhere(template: dict[str, Any]) -> None:
    assert Settings().max_duration_s == 86400
    assert template["Parameters"]["MaxDurationSeconds"]["Default"] == 86400


def test_every_job_definition_gets_the_same_settings_as_the_lambdas(template: dict[str, Any]) -> None:
    variables = lambda_environment(template)
    definitions = job_definitions(template)
    assert definitions
    for name, definition in definitions.items():
        environment = definition["Properties"]["ContainerProperties"]["Environment"]
        given = {item["Name"]: item["Value"] for item in environment}
        for env_name in ENV_NAMES.values():
            assert given.get(env_name) == variables[env_name], (name, env_name)
