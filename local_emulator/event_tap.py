"""A subscriber on the local stack's default event bus: an SQS queue behind an EventBridge rule, and the
events it has received. Tests use it to see what a real subscriber of the stack's events would see."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local_emulator.template import REGION


def subscribe(name: str, pattern: dict[str, Any]) -> str:
    """The URL of a new queue ``name`` that receives every event matching ``pattern`` (rule ``name``)."""
    sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return str(queue)


def drain(queue: str) -> list[dict[str, Any]]:
    """Every event waiting in ``queue``, deleted from it as it is read."""
    sqs = boto3.client("sqs", region_name=REGION)
    received: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        received += [json.loads(m["Body"]) for m in batch]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
    return received
