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

from pipeline.s3uri import parse_s3_uri

from parakeet_cli.catalog import EXECUTION_DONE
from parakeet_cli.connect import Stack
from parakeet_cli.exits import NotFound, UsageError

OUTPUT = "BackfillStateMachineArn"
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
) -> dict[str, Any]:
    """Start one backfill; the execution's ARN and the input it was given."""
    bucket, prefix = parse_target(target)
    if bucket != stack.names.input_bucket:
        raise UsageError(f"the stack transcribes s3://{stack.names.input_bucket}/, not s3://{bucket}/")
    if max_concurrency is not None and max_concurrency < 1:
        raise UsageError("--max-concurrency must be at least 1")
    run: dict[str, Any] = {"bucket": bucket, "prefix": prefix, "dry_run": dry_run}
    if max_concurrency is not None:
        run["max_concurrency"] = max_concurrency
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
