"""The CLI's waits are bounded: `--wait --timeout` gives up on an execution that never ends, returning
what it last saw, and returns as soon as everything ended. Time is a fake clock (the modules' ``time``
replaced), and a fake that is polled far too often fails the test instead of hanging it.
"""

from __future__ import annotations

from typing import Any

import pytest

from parakeet_cli import backfill, remote
from parakeet_cli.connect import Stack, StackNames

TOO_MANY_POLLS = 10_000


class FakeTime:
    """``time.monotonic`` and ``time.sleep`` of a clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "a poll loop that does not sleep spins"
        self.now += seconds


class Executions:
    """describe_execution: RUNNING until the poll named in ``ends_at`` (never, by default)."""

    def __init__(self, ends_at: dict[str, int] | None = None) -> None:
        self.ends_at = ends_at or {}
        self.polls: dict[str, int] = {}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        polls = self.polls[executionArn] = self.polls.get(executionArn, 0) + 1
        assert polls < TOO_MANY_POLLS, "the wait never gave up"
        ended = executionArn in self.ends_at and polls >= self.ends_at[executionArn]
        return {"status": "SUCCEEDED" if ended else "RUNNING", "output": "{}"}

    def list_map_runs(self, executionArn: str) -> dict[str, Any]:
        return {"mapRuns": []}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(remote, "time", fake)
    monkeypatch.setattr(backfill, "time", fake)
    return fake


def stack_with(sfn: Executions) -> Stack:
    names = StackNames(
        stack_name="s",
        region="us-east-1",
        input_bucket="in",
        output_bucket="out",
        catalog_table="catalog",
        state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:m",
    )
    return Stack(names=names, clients=lambda service: sfn)


def test_waiting_for_an_execution_that_never_ends_gives_up_at_the_timeout(clock: FakeTime) -> None:
    seen = remote.wait_for_executions(stack_with(Executions()), ["arn:x"], timeout_s=30.0, poll_s=2.0)

    assert seen == {"arn:x": "RUNNING"}
    assert 30.0 <= clock.now < 30.0 + 2.0  # the last poll at or after the deadline, not a poll later


def test_waiting_returns_as_soon_as_every_execution_ended(clock: FakeTime) -> None:
    sfn = Executions(ends_at={"arn:a": 3, "arn:b": 5})

    seen = remote.wait_for_executions(stack_with(sfn), ["arn:a", "arn:b"], timeout_s=900.0, poll_s=2.0)

    assert seen == {"arn:a": "SUCCEEDED", "arn:b": "SUCCEEDED"}
    assert clock.now == pytest.approx(4 * 2.0)  # four sleeps between five polls
    assert sfn.polls == {"arn:a": 3, "arn:b": 5}  # an ended execution is not polled again


def test_waiting_for_catalog_rows_that_never_appear_gives_up_at_the_timeout(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    polls: list[tuple[str, str]] = []

    def no_row(stack: Stack, source_uri: str, etag: str) -> None:
        polls.append((source_uri, etag))
        assert len(polls) < TOO_MANY_POLLS, "the wait never gave up"

    monkeypatch.setattr(remote.catalog, "get_row", no_row)

    seen = remote.wait_for_rows(stack_with(Executions()), [("s3://in/a.wav", "e")], timeout_s=5.0, poll_s=1.0)

    assert seen == {("s3://in/a.wav", "e"): None}
    assert 5.0 <= clock.now < 6.0


def test_following_a_backfill_with_a_timeout_gives_up_and_says_it_is_still_running(clock: FakeTime) -> None:
    result = backfill.wait(stack_with(Executions()), "arn:backfill", poll_s=2.0, timeout_s=60.0)

    assert result["status"] == "RUNNING"
    assert result["progress"]["status"] == "RUNNING"
    assert 60.0 <= clock.now <= 60.0 + 2.0
