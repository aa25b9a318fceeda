"""The Lambda packages ship exactly functions/requirements.lock: the requirements' closure (boto3 included).

`functions/Makefile` installs the lock with `pip --no-deps`, so nothing but the lock decides what a
function carries: a requirement added, dropped or bumped without regenerating the lock fails here.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import lambda_lock

from local_emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_the_lock_is_the_requirements_closure_minus_what_the_runtime_provides() -> None:
    computed = lambda_lock.closure(lambda_lock.read_requirements())
    expected = {canonicalize_name(name): version for name, version in computed.pins.items()}
    assert lambda_lock.read_lock() == expected, (
        "functions/requirements.lock is stale: run .venv/bin/python scripts/lambda_lock.py --write"
    )


def test_the_lock_ships_nothing_the_runtime_provides_and_says_what_it_left_out() -> None:
    locked = set(lambda_lock.read_lock())
    assert not locked & lambda_lock.RUNTIME_PROVIDED
    computed = lambda_lock.closure(lambda_lock.read_requirements())
    assert lambda_lock.lock_text(computed).splitlines()[3] in lambda_lock.LOCK.read_text()


def test_boto3_is_bundled_at_a_version_that_knows_the_conditional_writes() -> None:
    # Given the botocore the functions ship (the runtime's varies by region and date, issue 22)
    import botocore.session

    pins = lambda_lock.read_lock()
    assert {"boto3", "botocore", "s3transfer"} <= set(pins)
    assert pins["botocore"] == importlib.metadata.version("botocore")
    # Then it knows PutObject's IfMatch / IfNoneMatch, which pipeline.exact_upload.put_owned sends
    put_object = botocore.session.get_session().get_service_model("s3").operation_model("PutObject")
    assert {"IfMatch", "IfNoneMatch"} <= set(put_object.input_shape.members)


def test_every_requirement_is_locked_at_the_version_the_tests_run() -> None:
    pins = lambda_lock.read_lock()
    for requirement in lambda_lock.read_requirements():
        name = canonicalize_name(requirement.name)
        assert requirement.specifier.contains(pins[name]), (requirement, pins[name])
        assert pins[name] == importlib.metadata.version(requirement.name)


FAKE = {
    "app": lambda_lock.Installed(
        "App",
        "1.0",
        [
            'lib>=2; extra == "tracing"',
            'unused; extra == "other"',
            'backport; python_version < "3.12"',
            'only-on-312; python_version >= "3.12"',
            "Boto3>=1.30",
        ],
    ),
    "lib": lambda_lock.Installed("lib", "2.5", ["botocore", "leaf"]),
    "only-on-312": lambda_lock.Installed("only_on_312", "0.3", ["leaf>=1"]),
    "leaf": lambda_lock.Installed("leaf", "1.1", []),
}


def fake_lookup(name: str) -> lambda_lock.Installed:
    try:
        return FAKE[canonicalize_name(name)]
    except KeyError:
        raise importlib.metadata.PackageNotFoundError(name) from None


# What a runtime-provided set does (the functions leave nothing to the runtime: RUNTIME_PROVIDED is empty).
RUNTIME_BOTO = frozenset({"boto3", "botocore"})


def test_the_closure_follows_extras_and_python312_markers_and_stops_at_the_runtime() -> None:
    locked = lambda_lock.closure([Requirement("app[tracing]==1.0")], RUNTIME_BOTO, lookup=fake_lookup)
    assert locked.pins == {"App": "1.0", "lib": "2.5", "only_on_312": "0.3", "leaf": "1.1"}
    assert locked.provided == {"boto3": {"App"}, "botocore": {"lib"}}


def test_without_the_extra_its_requirements_are_not_shipped() -> None:
    locked = lambda_lock.closure([Requirement("app==1.0")], RUNTIME_BOTO, lookup=fake_lookup)
    assert locked.pins == {"App": "1.0", "only_on_312": "0.3", "leaf": "1.1"}


def test_a_requirement_the_venv_does_not_satisfy_is_an_error() -> None:
    with pytest.raises(SystemExit, match=r"App 1\.0 is installed"):
        lambda_lock.closure([Requirement("app>=2")], RUNTIME_BOTO, lookup=fake_lookup)
    with pytest.raises(SystemExit, match="not installed"):
        lambda_lock.closure([Requirement("missing")], lookup=fake_lookup)


SHARED_CODE_FUNCTIONS = [
    lid
    for lid, r in load_template()["Resources"].items()
    if r["Type"] == "AWS::Serverless::Function" and "CodeUri" not in r["Properties"]
]


@pytest.mark.parametrize("function", SHARED_CODE_FUNCTIONS)
def test_every_function_is_built_from_the_lock_by_the_shared_makefile(function: str, tmp_path: Path) -> None:
    resource = load_template()["Resources"][function]
    assert resource["Metadata"]["BuildMethod"] == "makefile"
    make = ["make", "-n", "-f", "Makefile", f"build-{function}", f"ARTIFACTS_DIR={tmp_path}"]
    dry_run = subprocess.run(make, cwd=ROOT / "functions", capture_output=True, text=True, check=True).stdout
    commands = [" ".join(line.split()) for line in dry_run.replace("\\\n", " ").splitlines()]
    [install] = [c for c in commands if " -m pip install " in c]
    for flag in (
        "--no-deps",
        "--only-binary=:all:",
        "--python-version 3.12",
        "-r requirements.lock",
        "--platform manylinux2014_x86_64",
        f'--target "{tmp_path}"',
    ):
        assert flag in install
    [copy] = [c.split() for c in commands if c.startswith("cp -R ")]
    for package in ("pipeline", "lambda_runtime", resource["Properties"]["Handler"].split(".")[0]):
        assert package in copy


def test_the_functions_share_one_code_location() -> None:
    assert load_template()["Globals"]["Function"]["CodeUri"] == "functions/"
    assert SHARED_CODE_FUNCTIONS
