"""Specification of the offline service checks in ``make lint`` (scripts/service_lint.sh): each refuses
what its service refuses. A definition with a repeated state name once passed every local check and
failed the first ``sam deploy`` (issue 22)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local_emulator.rendered import definitions
from local_emulator.template import REPO_ROOT

ASL_VALIDATOR = REPO_ROOT / "tools" / "node" / "node_modules" / ".bin" / "asl-validator"
LINT_PYTHON = REPO_ROOT / ".venv-lint" / "bin" / "python"


@pytest.fixture
def backfill(rendered_template: dict[str, Any]) -> dict[str, Any]:
    """The backfill definition as Step Functions receives it (rendered, substitutions applied)."""
    return definitions(rendered_template)["BackfillStateMachine"]


def asl_validator(definition: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(json.dumps(definition))
    return subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True)


def test_asl_validator_accepts_the_backfill_as_deployed(backfill: dict[str, Any], tmp_path: Path) -> None:
    result = asl_validator(backfill, tmp_path / "backfill.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_refuses_a_state_name_repeated_across_map_processors(
    backfill: dict[str, Any], tmp_path: Path
) -> None:
    # Given the listing processor with the manifest processor's state names (as before issue 22)
    states = backfill["States"]
    states["BackfillPrefix"]["ItemProcessor"] = states["BackfillManifest"]["ItemProcessor"]
    result = asl_validator(backfill, tmp_path / "repeated.json")
    # Then the lint fails, naming the repeated states
    assert result.returncode != 0
    assert "DUPLICATE_STATE_NAMES" in result.stdout + result.stderr
    assert "ManifestDecide" in result.stdout + result.stderr


def test_parliament_refuses_an_action_iam_does_not_have(tmp_path: Path) -> None:
    (tmp_path / "Role.Policy.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "arn:aws:s3:::bucket/*"}
                ],
            }
        )
    )
    result = subprocess.run(
        [str(LINT_PYTHON), "scripts/iam_lint.py", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "UNKNOWN_ACTION" in result.stdout, result.stdout + result.stderr
