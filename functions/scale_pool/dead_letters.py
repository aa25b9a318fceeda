"""Fail the files whose pool message went to the dead-letter queue: their tokens would wait for ever.

TranscribeInPool has no heartbeat clock (it would start when the file is queued, not when a worker takes
it), so nothing in Step Functions notices a message that killed ``maxReceiveCount`` workers and was parked
in the pool dead-letter queue. The scaler's one-minute schedule reads that queue and answers each parked
task's token with ``pool.worker_lost`` (the execution records it: docs/OUTCOMES.md). The message stays
parked (the only copy of the request, for the alarm and for inspection), hidden for the longest
visibility SQS allows; a token answered before (or whose execution ended) is ``TaskTimedOut`` /
``TaskDoesNotExist`` / ``InvalidToken`` and is left alone.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pipeline.contracts import PoolTask
from pipeline.exact_upload import error_code
from pydantic import ValidationError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_stepfunctions.client import SFNClient


POOL_WORKER_LOST = "pool.worker_lost"  # the Error TranscribeInPool catches (statemachine/transcribe.asl.json)
ANSWERED = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
PARKED_VISIBILITY_S = 43200  # SQS's maximum: a parked message is looked at twice a day at most
MAX_BATCHES = 10  # 100 messages per call; the next minute's call takes the rest


def answer_dead_letters(sqs: SQSClient, sfn: SFNClient, queue_url: str) -> int:
    """Answer every parked task's token with pool.worker_lost; how many executions that failed."""
    failed = 0
    for _ in range(MAX_BATCHES):
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=PARKED_VISIBILITY_S,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            try:
                task = PoolTask.model_validate_json(message["Body"])
            except ValidationError:
                continue  # not a pool task: nothing to answer
            cause = {
                "error": POOL_WORKER_LOST,
                "input": task.request.source.uri,
                "message": "every pool worker that took this file died on it; its message is parked"
                " in the pool dead-letter queue",
                "execution_arn": task.execution_arn,
            }
            try:
                sfn.send_task_failure(
                    taskToken=task.task_token, error=POOL_WORKER_LOST, cause=json.dumps(cause)
                )
                failed += 1
            except ClientError as exc:
                if error_code(exc) not in ANSWERED:
                    raise
    return failed
