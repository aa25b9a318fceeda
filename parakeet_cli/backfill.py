"""`parakeet backfill s3://bucket/prefix`: start the stack's backfill state machine, follow it, summarise.

The backfill itself runs in Step Functions (statemachine/backfill.asl.json, docs/BACKFILL.md): this
module only starts it (its ARN is the stack output ``BackfillStateMachineArn``), reads its progress
from the Distributed Map's map run (items done, failed, remaining) and, once it ends, its output: the
counts by outcome (contracts BackfillSummary). Closing the CLI does not stop the backfill.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.restore_prices import GB, estimate
from pipeline.s3uri import parse_s3_uri

from parakeet_cli.catalog import EXECUTION_DONE
from parakeet_cli.connect import Stack
from parakeet_cli.exits import NotFound, UsageError

OUTPUT = "BackfillStateMachineArn"
RUN_TIERS = ("bulk", "standard", "expedited")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Progress:
    """Objects of the map run: done (its item succeeded), failed (its item failed), remaining."""

    status: str
    total: int
    done: int
    failed: int

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done - self.failed)


def parse_target(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix); the prefix may be empty (the whole bucket)."""
    try:
        location = parse_s3_uri(uri)
    except ValueError:
        raise UsageError(f"not an s3://bucket/prefix URI: {uri!r}") from None
    return location.bucket, location.key


def backfill_arn(stack: Stack) -> str:
    arn = stack.names.outputs.get(OUTPUT)
    if not arn:
        raise NotFound(
            f"stack {stack.names.stack_name!r} has no output {OUTPUT}: deployed before backfill?",
            stack=stack.names.stack_name,
        )
    return arn


def run_name(prefix: str, dry_run: bool, now: datetime.datetime | None = None) -> str:
    """``backfill[-dry]-<prefix words>-<UTC time>``: readable in the console, unique per second."""
    when = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")
    words = _UNSAFE.sub("-", prefix).strip("-_")[:40] or "all"
    return f"backfill{'-dry' if dry_run else ''}-{words}-{when}"


def start(
    stack: Stack,
    target: str,
    dry_run: bool = False,
    max_concurrency: int | None = None,
    manifest: str | None = None,
    restore: str | None = None,
    restore_days: int = 1,
    max_restores: int | None = None,
    max_restores_per_hour: int | None = None,
) -> dict[str, Any]:
    """Start one backfill; the execution's ARN and the input it was given. ``restore`` (a tier): the run
    restores its cold objects itself, at most ``max_restores`` in all and ``max_restores_per_hour``."""
    bucket, prefix = parse_target(target)
    if bucket != stack.names.input_bucket:
        raise UsageError(f"the stack transcribes s3://{stack.names.input_bucket}/, not s3://{bucket}/")
    if max_concurrency is not None and max_concurrency < 1:
        raise UsageError("--max-concurrency must be at least 1")
    run: dict[str, Any] = {"bucket": bucket, "prefix": prefix, "dry_run": dry_run}
    if max_concurrency is not None:
        run["max_concurrency"] = max_concurrency
    if restore is not None:
        if restore not in RUN_TIERS:
            raise UsageError(f"--restore must be one of {', '.join(RUN_TIERS)}, not {restore!r}")
        if not 1 <= restore_days <= 30:
            raise UsageError("--restore-days must be 1 to 30")
        for flag, cap in (
            ("--max-restores", max_restores),
            ("--max-restores-per-hour", max_restores_per_hour),
        ):
            if cap is not None and cap < 0:
                raise UsageError(f"{flag} must be 0 or more")
        caps = {"max_restores": max_restores, "max_restores_per_hour": max_restores_per_hour}
        run["restore"] = {
            "tier": restore,
            "days": restore_days,
            **{name: cap for name, cap in caps.items() if cap is not None},
        }
    elif max_restores is not None or max_restores_per_hour is not None:
        raise UsageError(
            "--max-restores and --max-restores-per-hour cap a run's restores: give --restore too"
        )
    if manifest:
        manifest_bucket, manifest_key = parse_target(manifest)
        run["manifest"] = {"bucket": manifest_bucket, "key": manifest_key}
    name = run_name(prefix, dry_run)
    arn = stack.client("stepfunctions").start_execution(
        stateMachineArn=backfill_arn(stack), name=name, input=json.dumps(run)
    )["executionArn"]
    return {"execution_name": name, "execution_arn": arn, "input": run, "console_url": stack.console_url(arn)}


def progress(stack: Stack, execution_arn: str) -> Progress:
    sfn = stack.client("stepfunctions")
    status = str(sfn.describe_execution(executionArn=execution_arn)["status"])
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    if not runs:  # still before the Map (or it failed before reading the listing)
        return Progress(status, 0, 0, 0)
    counts = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
    failed = sum(int(counts.get(k, 0)) for k in ("failed", "timedOut", "aborted"))
    return Progress(status, int(counts.get("total", 0)), int(counts.get("succeeded", 0)), failed)


def wait(
    stack: Stack,
    execution_arn: str,
    on_progress: Callable[[Progress], None] | None = None,
    poll_s: float = 2.0,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Follow the backfill to its end; its summary (SUCCEEDED) or its error."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        seen = progress(stack, execution_arn)
        if on_progress is not None:
            on_progress(seen)
        if seen.status in EXECUTION_DONE:
            break
        if deadline is not None and time.monotonic() > deadline:
            return {"status": "RUNNING", "progress": vars(seen)}
        time.sleep(poll_s)
    described = stack.client("stepfunctions").describe_execution(executionArn=execution_arn)
    result: dict[str, Any] = {
        "status": described["status"],
        "progress": {**vars(seen), "remaining": seen.remaining},
    }
    if described["status"] == "SUCCEEDED":
        result["summary"] = json.loads(described.get("output") or "{}")
    else:
        result["error"] = described.get("error")
        result["cause"] = described.get("cause")
    return result


def restore_estimate(summary: dict[str, Any], tier: str | None, days: int = 1) -> dict[str, Any] | None:
    """What restoring the cold objects a run started (a dry run: would start) costs and takes, by class,
    from the summary's ``storage_classes`` and pipeline.restore_prices (list prices, one table). ``tier``
    None (the run does not restore): priced as Bulk, the cheapest. None when nothing is cold."""
    counts = []
    for label, count in (summary.get("storage_classes") or {}).items():
        storage_class, _, archive_status = str(label).partition("/")
        counts.append((storage_class, archive_status or None, int(count["objects"]), int(count["bytes"])))
    priced = estimate(counts, tier or "bulk", days)  # type: ignore[arg-type]  # one of RUN_TIERS
    if not priced.classes:
        return None
    return {
        "tier": tier or "bulk",
        "days": days,
        "objects": priced.objects,
        "usd": round(priced.usd, 6),
        "hours_at_most": priced.hours,
        "classes": [
            {
                "storage_class": c.storage_class,
                "archive_status": c.archive_status,
                "objects": c.objects,
                "gb": round(c.size_bytes / GB, 6),
                "tier": c.tier,
                "usd": round(c.usd, 6),
                "retrieval_usd": round(c.retrieval_usd, 6),
                "requests_usd": round(c.requests_usd, 6),
                "copy_storage_usd": round(c.copy_storage_usd, 6),
                "hours_at_most": c.hours,
                "note": c.note,
            }
            for c in priced.classes
        ],
        "note": "list prices (pipeline/restore_prices.py), not fetched; hours are the tiers' upper bounds",
    }
