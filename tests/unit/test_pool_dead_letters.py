"""Specification: the scaler's schedule fails the files whose pool message was dead-lettered.

TranscribeInPool has no heartbeat clock (it would start at enqueue time and fail a backlog's tail),
so a message that killed maxReceiveCount workers would leave its execution waiting until the task's
TimeoutSeconds. scale_pool.dead_letters answers such a token with pool.worker_lost instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from pipeline.contracts import PoolTask, UploadedObject
from scale_pool.dead_letters import POOL_WORKER_LOST, answer_dead_letters

from tests.contract_examples import planned

UPLOAD = UploadedObject(bucket="in", key="poison.wav", etag="abc", size=10, uri="s3://in/poison.wav")


def pool_task(token: str) -> str:
    request = planned(UPLOAD, duration_s=3.0, output_bucket="out").request
    return PoolTask(
        task_token=token,
        request=request,
        execution_arn=f"arn:exec:{token}",
        enqueued_at="2026-12-06T21:00:00Z",
    ).model_dump_json()


class FakeStepFunctions:
    def __init__(self, answered: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.failures: list[dict[str, str]] = []
        self.answered = set(answered)

    def send_task_failure(self, taskToken: str, error: str, cause: str) -> None:
        if taskToken in self.answered:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "over"}}, "SendTaskFailure")
        self.answered.add(taskToken)
        self.failures.append({"token": taskToken, "error": error, "cause": cause})


@pytest.fixture
def dead_letter_queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        yield sqs, sqs.create_queue(QueueName="pool-dlq")["QueueUrl"]


def test_each_parked_task_is_failed_as_worker_lost_once_and_stays_parked(
    dead_letter_queue: tuple[Any, str],
) -> None:
    sqs, url = dead_letter_queue
    # Given two parked pool messages and a stray body that is no pool task
    for body in (pool_task("t1"), pool_task("t2"), "not json"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sfn = FakeStepFunctions()

    # When the schedule runs
    failed = answer_dead_letters(sqs, sfn, url)

    # Then both tokens were failed with pool.worker_lost, naming the file
    assert failed == 2
    assert sorted(f["token"] for f in sfn.failures) == ["t1", "t2"]
    assert {f["error"] for f in sfn.failures} == {POOL_WORKER_LOST}
    assert json.loads(sfn.failures[0]["cause"])["input"] == UPLOAD.uri
    # And the messages are still parked (hidden, not deleted)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["ApproximateNumberOfMessagesNotVisible"]) == 3


def test_a_token_answered_before_is_left_alone(dead_letter_queue: tuple[Any, str]) -> None:
    sqs, url = dead_letter_queue
    sqs.send_message(QueueUrl=url, MessageBody=pool_task("old"))
    # Given its execution already ended (Step Functions answers TaskTimedOut)
    assert answer_dead_letters(sqs, FakeStepFunctions(answered={"old"}), url) == 0


def test_the_step_functions_name_for_the_failure_is_the_one_the_workflow_catches() -> None:
    from local_emulator.template import REPO_ROOT

    asl = json.loads((REPO_ROOT / "statemachine" / "transcribe.asl.json").read_text())
    catches = asl["States"]["TranscribeInPool"]["Catch"]
    assert [POOL_WORKER_LOST] in [c["ErrorEquals"] for c in catches]
