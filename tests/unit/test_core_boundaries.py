"""Specification of the code's shape: one shared core (functions/pipeline) that everything may import,
and Lambda folders that import only the core and the Lambda runtime helpers, never each other.

The GPU image ships gpu_job/ and the core alone (gpu_job/Dockerfile), so gpu_job may import nothing else
of functions/; the `parakeet` CLI is installed with the core (pyproject.toml), so neither may it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
CORE = "pipeline"
LAMBDA_RUNTIME = "lambda_runtime"
LAMBDA_FOLDERS = sorted(
    p.name
    for p in FUNCTIONS.iterdir()
    if (p / "__init__.py").exists() and p.name not in (CORE, LAMBDA_RUNTIME)
)


def imported_top_levels(folder: Path) -> dict[str, set[str]]:
    """{module path: top-level packages it imports} for every module under ``folder``."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_there_are_lambda_folders_to_check() -> None:
    assert {"claim_source", "probe_audio", "postprocess", "record_failure"} <= set(LAMBDA_FOLDERS)


@pytest.mark.parametrize("folder", LAMBDA_FOLDERS)
def test_a_lambda_folder_imports_no_other_lambda_folder(folder: str) -> None:
    others = set(LAMBDA_FOLDERS) - {folder}
    offenders = {
        module: sorted(names & others)
        for module, names in imported_top_levels(FUNCTIONS / folder).items()
        if names & others
    }
    assert offenders == {}


@pytest.mark.parametrize("package", ["gpu_job", "parakeet_cli", f"functions/{CORE}"])
def test_the_image_the_cli_and_the_core_import_only_the_core_of_functions(package: str) -> None:
    forbidden = set(LAMBDA_FOLDERS) | {LAMBDA_RUNTIME}
    offenders = {
        module: sorted(names & forbidden)
        for module, names in imported_top_levels(ROOT / package).items()
        if names & forbidden
    }
    assert offenders == {}
