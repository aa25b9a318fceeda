"""The container keeps its own copy of the typed errors and exit codes; they must match the workflow's."""

from __future__ import annotations

import common.errors as shared

from gpu_job import errors as local


def test_exit_codes_match_the_shared_contract() -> None:
    # Given the workflow's constants, When gpu_job defines its own, Then the codes are identical
    assert local.GPU_JOB_EXIT_BAD_INPUT == shared.GPU_JOB_EXIT_BAD_INPUT == 65
    assert local.GPU_JOB_EXIT_INTERNAL == shared.GPU_JOB_EXIT_INTERNAL == 70


def test_every_shared_bad_input_error_exists_with_the_same_name_and_reason() -> None:
    for shared_error in shared.BAD_INPUT_ERRORS:
        local_error = getattr(local, shared_error.__name__)
        assert issubclass(local_error, local.BadInputError)
        assert local_error.reason == shared_error.reason


def test_gpu_job_does_not_import_functions_at_runtime() -> None:
    # The container image has no functions/ package: no module under gpu_job may import it.
    from pathlib import Path

    package = Path(local.__file__).parent
    offenders = [
        p.name
        for p in package.glob("*.py")
        if "from common" in p.read_text() or "import common" in p.read_text()
    ]
    assert offenders == []
