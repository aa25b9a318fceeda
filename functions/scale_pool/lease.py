"""One ScalePool call scales at a time, without reserved concurrency: a lease item, conditionally written.

Reserved concurrency 1 used to serialise the scaler, but it cannot be created on an account whose
unreserved concurrency would fall below the minimum (new accounts), and throttled the calls it refused.
The rule it enforced is what matters: a call counts the workers every earlier call submitted, so a
burst never starts more workers than the backlog needs. A call that finds the lease held skips: the
holder is scaling for a backlog that already includes most of the skipper's file, and the one-minute
schedule scales for the rest. A holder that died lets its lease lapse at its function's deadline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pipeline.exact_upload import error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


LEASE_KEY = "pool-scaler"


def acquire(table: Table, holder: str, now_s: float, until_s: float) -> bool:
    """Take the lease until ``until_s`` (epoch seconds) unless another holder's has not lapsed."""
    try:
        table.put_item(
            Item={"lease": LEASE_KEY, "holder": holder, "expires_at": int(until_s) + 1},
            ConditionExpression="attribute_not_exists(#lease) OR expires_at < :now",
            ExpressionAttributeNames={"#lease": "lease"},
            ExpressionAttributeValues={":now": int(now_s)},
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release(table: Table, holder: str) -> None:
    """Give the lease back, only if it is still ours (a lapsed one may have been taken meanwhile)."""
    try:
        table.delete_item(
            Key={"lease": LEASE_KEY},
            ConditionExpression="holder = :holder",
            ExpressionAttributeValues={":holder": holder},
        )
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
