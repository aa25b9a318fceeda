"""The restore caps of one backfill run (docs/ARCHIVES.md): `max_restores` in all, `max_restores_per_hour`.

Decide runs for many objects at once, so the caps are counters every invocation shares: two items of
the catalog table under the run's own partition key (``restore-budget://<run name>``; no ``status``, so
never in the by-status index nor in ``parakeet status``), taken with one conditional ADD each. The hour
is the UTC clock hour the slot is taken in. A slot taken for an hour and then refused by the total is
given back. Retried invocations may count a restore twice: the caps err on the side of fewer restores.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError
from pipeline.backfill import RunRestore
from pipeline.catalog import catalog_key
from pipeline.exact_upload import error_code

BUDGET_SCHEME = "restore-budget://"
TOTAL = "total"
Slot = tuple[Literal["ok", "cap", "wait"], int]  # and the seconds to wait (wait only)


def budget_uri(run: str) -> str:
    return f"{BUDGET_SCHEME}{run}"


def _take(table: Any, run: str, counter: str, cap: int) -> bool:
    try:
        table.update_item(
            Key=catalog_key(budget_uri(run), counter),
            UpdateExpression="ADD restores :one",
            ConditionExpression="attribute_not_exists(restores) OR restores < :cap",
            ExpressionAttributeValues={":one": 1, ":cap": cap},
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _give_back(table: Any, run: str, counter: str) -> None:
    table.update_item(
        Key=catalog_key(budget_uri(run), counter),
        UpdateExpression="ADD restores :minus",
        ExpressionAttributeValues={":minus": -1},
    )


def take_slot(table: Any, run: str, restore: RunRestore, now: datetime) -> Slot:
    """("ok", 0): restore it; ("cap", 0): the run's total is spent; ("wait", s): this hour's is."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    hour_counter = f"hour/{hour.strftime('%Y-%m-%dT%H')}"
    if restore.max_restores_per_hour is not None and not _take(
        table, run, hour_counter, restore.max_restores_per_hour
    ):
        next_hour = hour + timedelta(hours=1)
        return "wait", max(1, int((next_hour - now).total_seconds()) + 1)
    if restore.max_restores is not None and not _take(table, run, TOTAL, restore.max_restores):
        if restore.max_restores_per_hour is not None:
            _give_back(table, run, hour_counter)
        return "cap", 0
    return "ok", 0
