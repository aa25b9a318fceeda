"""Sum a backfill's per-object results into the counts its execution ends with (and the CLI prints)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from contracts.backfill import BackfillItemResult, BackfillSummary, BackfillSummaryRequest
from pydantic import ValidationError

STARTED = ("transcribed", "failed", "already_claimed", "superseded")


def summarise(request: BackfillSummaryRequest) -> BackfillSummary:
    outcomes: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    errors = 0
    for raw in request.results:
        try:
            result = BackfillItemResult.model_validate(raw)
        except ValidationError:
            errors += 1  # a failed item (within ToleratedFailurePercentage): no outcome of ours
            continue
        outcomes[result.outcome] += 1
        if result.outcome == "skipped":
            skipped[result.reason or "unknown"] += 1
    counts: dict[str, Any] = {name: outcomes[name] for name in
                              ("transcribed", "failed", "already_started", "already_claimed", "superseded")}
    return BackfillSummary(
        dry_run=request.dry_run, total=len(request.results), started=sum(outcomes[n] for n in STARTED),
        skipped=dict(sorted(skipped.items())), would_start=outcomes["would_start"] + outcomes["would_retry"],
        would_retry=outcomes["would_retry"], item_errors=errors, **counts)
