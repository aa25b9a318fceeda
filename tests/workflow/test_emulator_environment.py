"""The local emulator leaves the process environment as it found it (order independence of the suite)."""

from __future__ import annotations

import os

import pytest
from moto import mock_aws

from local_emulator.bridges import _environment, bridged
from local_emulator.stack import MOTO_CONFIG, run_gpu_job_in_process


def test_the_keys_an_invocation_left_behind_are_gone_when_the_bridges_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a variable the process already had, and an invocation whose environment adds and changes some
    monkeypatch.setenv("PARAKEET_TEST_KEPT", "before")
    monkeypatch.delenv("PARAKEET_TEST_ADDED", raising=False)
    with mock_aws(config=MOTO_CONFIG), bridged(job_runner=run_gpu_job_in_process):
        with _environment({"PARAKEET_TEST_ADDED": "job", "PARAKEET_TEST_KEPT": "job"}):
            pass
        # (while the stack runs, an added key stays: another thread may be reading it, gap 15)
        assert os.environ["PARAKEET_TEST_ADDED"] == "job"

    # Then afterwards the process environment is the one it was before
    assert "PARAKEET_TEST_ADDED" not in os.environ
    assert os.environ["PARAKEET_TEST_KEPT"] == "before"
