"""Catalog rows (one per upload: source_uri + etag) and their executions, read with boto3 clients.

Rows come back as plain dicts with DynamoDB numbers as int/float (pipeline.catalog.from_dynamo), not as
pipeline.CatalogItem: a row written by a newer function (a status or field this CLI does not know yet)
must still be shown. Queries by status use the table's ``by-status`` index (status, updated_at), so
``--failed``, ``--running`` and ``cost --since`` read only the rows they report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from pipeline.catalog import PARTITION_KEY, SORT_KEY, from_dynamo
from pipeline.exact_upload import error_code
from pipeline.outcomes import SETTLED_STATUSES, STATUSES
from pipeline.s3uri import format_s3_uri

from parakeet_cli.connect import CATALOG_STATUS_INDEX, Stack

# The row says the execution that wrote it ended (RESTORING: the next one starts on S3's event).
DONE = SETTLED_STATUSES
EXECUTION_DONE = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

_deserializer = TypeDeserializer()


def _row(item: dict[str, Any]) -> dict[str, Any]:
    return from_dynamo({name: _deserializer.deserialize(value) for name, value in item.items()})


def _pages(dynamodb: Any, limit: int | None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    count = 0
    while True:
        page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            yield _row(item)
            count += 1
            if limit is not None and count >= limit:
                return
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: str(r.get("updated_at") or r.get("claimed_at") or ""), reverse=True)


def source_uri(stack: Stack, key: str) -> str:
    """A key of the input bucket, or an s3:// URI given as is."""
    return key if key.startswith("s3://") else format_s3_uri(stack.names.input_bucket, key.lstrip("/"))


def rows_for(stack: Stack, uri: str) -> list[dict[str, Any]]:
    """Every row of one source URI (one per upload of that key), newest first."""
    rows = _pages(
        stack.client("dynamodb"),
        None,
        TableName=stack.names.catalog_table,
        KeyConditionExpression="#pk = :uri",
        ExpressionAttributeNames={"#pk": PARTITION_KEY},
        ExpressionAttributeValues={":uri": {"S": uri}},
    )
    return newest_first(list(rows))


def get_row(stack: Stack, uri: str, etag: str) -> dict[str, Any] | None:
    key = {PARTITION_KEY: {"S": uri}, SORT_KEY: {"S": etag}}
    table = stack.names.catalog_table
    item = stack.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)
    return _row(item["Item"]) if "Item" in item else None


def rows_by_status(
    stack: Stack, status: str, since: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Rows in one status, most recently updated first; ``since`` an ISO-8601 UTC time (updated_at >=)."""
    condition = "#s = :s"
    values: dict[str, Any] = {":s": {"S": status}}
    if since:
        condition += " AND #u >= :since"
        values[":since"] = {"S": since}
    names = {"#s": "status", **({"#u": "updated_at"} if since else {})}
    return list(
        _pages(
            stack.client("dynamodb"),
            limit,
            TableName=stack.names.catalog_table,
            IndexName=CATALOG_STATUS_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
        )
    )


def count_by_status(stack: Stack) -> dict[str, int]:
    dynamodb = stack.client("dynamodb")
    counts = {}
    for status in STATUSES:
        kwargs: dict[str, Any] = {
            "TableName": stack.names.catalog_table,
            "IndexName": CATALOG_STATUS_INDEX,
            "Select": "COUNT",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": status}},
        }
        total = 0
        while True:
            page = dynamodb.query(**kwargs)
            total += int(page.get("Count", 0))
            if not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        counts[status] = total
    return counts


def execution(stack: Stack, arn: str | None) -> dict[str, Any] | None:
    """The execution's state and console link; None without an ARN (a row claimed by a backfill)."""
    if not arn:
        return None
    info: dict[str, Any] = {"arn": arn, "name": arn.rsplit(":", 1)[-1], "console_url": stack.console_url(arn)}
    try:
        described = stack.client("stepfunctions").describe_execution(executionArn=arn)
    except ClientError as exc:
        if error_code(exc) != "ExecutionDoesNotExist":
            raise
        return {**info, "status": "UNKNOWN", "note": "no such execution (gone after 90 days, or elsewhere)"}
    for field, name in (("startDate", "started_at"), ("stopDate", "stopped_at")):
        if described.get(field) is not None:
            info[name] = described[field].isoformat()
    info["status"] = described["status"]
    for field in ("error", "cause"):
        if described.get(field):
            info[field] = described[field]
    return info


def describe(stack: Stack, row: dict[str, Any], with_execution: bool = True) -> dict[str, Any]:
    """A row as commands report it: the row itself plus its execution (state and console link)."""
    described = dict(row)
    if with_execution:
        described["execution"] = execution(stack, row.get("execution_arn"))
    return described
