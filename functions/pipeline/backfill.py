"""The shapes of a backfill (statemachine/backfill.asl.json, docs/BACKFILL.md).

```
Backfill input   BackfillInput {bucket, prefix, manifest?, dry_run, max_concurrency, tolerated_failure_%}
  per object     Decide        BackfillItemRequest (ItemSelector: the listed object + the run's input)
                               -> BackfillDecision {action start|done, outcome, name, input}
                 Start         states:startExecution.sync:2 of the per-file workflow (name, input)
                 -> one BackfillItemResult {outcome, reason} per object (ResultWriter: files in S3)
  Summarise      BackfillSummaryRequest {result_writer: {Bucket, Key} of manifest.json, dry_run}
                 -> BackfillSummary (the execution's output)
```

Kept apart from ``pipeline.contracts`` (the per-file workflow's contracts, from which
docs/CONTRACTS.md is generated) because none of these crosses into the per-file workflow: what
the backfill gives the per-file workflow is the very input the live starter gives it, the S3
"Object Created" event.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

# Why an object is not started. ``ignored_suffix`` and ``folder_marker`` are the live starter's
# rule (start_execution.starter.ignore_reason); the catalog ones say the same bytes already have
# their answer; ``not_current`` is an inventory row for an old version or a delete marker;
# ``outside_prefix`` an inventory row for a key outside the requested prefix.
# ``restoring``: a restore of the cold bytes runs; S3's restore-completed event transcribes them
# (docs/ARCHIVES.md). An ARCHIVED row is started again (``retry``): with RestoreArchived on, it is restored.
SkipReason = Literal[
    "folder_marker",
    "ignored_suffix",
    "transcribed",
    "bad_input",
    "superseded",
    "not_current",
    "outside_prefix",
    "restoring",
    "restore_cap",
]
# ``restore_cap``: a cold object the run would restore, past the run's ``max_restores`` (docs/ARCHIVES.md).
# What the decision leads to: ``start``/``retry`` start the per-file workflow (``retry`` under a
# ``retryN`` name, after an internal failure); a dry run answers ``would_start``/``would_retry``.
# ``wait``: a cold object to restore while this hour's ``max_restores_per_hour`` are taken: Decide again
# after ``wait_s`` (a Wait state: a Standard child execution pays per transition, not per second).
DecisionOutcome = Literal["start", "retry", "skipped", "would_start", "would_retry", "wait"]
# One object's end in the backfill (the Map's per-item result).
ItemOutcome = Literal[
    "transcribed",
    "failed",
    "already_started",
    "already_claimed",
    "superseded",
    "skipped",
    "would_start",
    "would_retry",
    "archived",
    "restoring",
]
# The outcomes a BackfillSummary counts under their own names, in the order it and `parakeet backfill` list
# them (skipped is counted by reason; would_start/would_retry are the dry run's), and those of them that
# mean this run started the object's execution.
COUNTED_OUTCOMES: tuple[ItemOutcome, ...] = (
    "transcribed",
    "failed",
    "already_started",
    "already_claimed",
    "superseded",
    "archived",
    "restoring",
)
STARTED_OUTCOMES: tuple[ItemOutcome, ...] = tuple(o for o in COUNTED_OUTCOMES if o != "already_started")
ItemSource = Literal["listing", "manifest"]


class BackfillContract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestLocation(BackfillContract):
    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1, description="The S3 Inventory manifest.json.")


class RunRestore(BackfillContract):
    """A run that restores its cold objects itself (Decide issues RestoreObject, within the caps), whatever
    the stack's RestoreArchived; None (the default): each upload's own RestoreArchived rule applies."""

    tier: Literal["bulk", "standard", "expedited"]
    days: int = Field(1, ge=1, le=30, description="RestoreDays of the restored copies.")
    max_restores: NonNegativeInt | None = Field(None, description="Restores this run asks for, at most.")
    max_restores_per_hour: NonNegativeInt | None = Field(
        None, description="Restores asked for in one clock hour (UTC), at most; the rest wait for the next."
    )


class BackfillInput(BackfillContract):
    """The backfill execution's input after the template's defaults are merged in (Defaults state)."""

    bucket: str = Field(min_length=1)
    prefix: str = ""
    manifest: ManifestLocation | None = None
    dry_run: bool = False
    max_concurrency: int = Field(ge=1)
    tolerated_failure_percentage: float = Field(ge=0, le=100)
    restore: RunRestore | None = None
    run_name: str | None = Field(None, description="The backfill execution's name (Defaults state).")


class BackfillItemRequest(BackfillContract):
    """What Decide receives for one object: the ItemReader's item as Step Functions produced it
    (ListObjectsV2: ``Key, Etag, Size, LastModified, StorageClass``; an S3 Inventory row: ``Bucket,
    Key`` URL-encoded, and the columns the inventory has, e.g. ``Size, ETag, VersionId, IsLatest,
    IsDeleteMarker``) and the run's input."""

    bucket: str = Field(min_length=1)
    prefix: str = ""
    dry_run: bool = False
    source: ItemSource
    item: dict[str, Any]
    run: str | None = Field(None, description="The backfill execution's name: the restore caps' scope.")
    restore: RunRestore | None = None


class BackfillDecision(BackfillContract):
    action: Literal["start", "done", "wait"] = Field(
        description="start: run the per-file workflow; done: nothing to run; wait: Decide again after wait_s."
    )
    outcome: DecisionOutcome
    reason: SkipReason | None = None
    source_uri: str | None = None
    name: str | None = Field(None, description="The per-file execution's name (pipeline.naming).")
    input: dict[str, Any] | None = Field(
        None, description="The per-file execution's input: the S3 Object Created event, as from the starter."
    )
    storage_class: str | None = Field(None, description="As listed (STANDARD when the listing says none).")
    archive_status: str | None = Field(None, description="Intelligent-Tiering: its archive tier, if any.")
    size: NonNegativeInt | None = None
    restore_requested: bool = Field(False, description="Decide issued RestoreObject for this object.")
    wait_s: NonNegativeInt | None = Field(None, description="wait: seconds until a restore slot frees up.")


class BackfillItemResult(BackfillContract):
    outcome: ItemOutcome
    reason: SkipReason | None = None
    storage_class: str | None = None
    archive_status: str | None = None
    size: NonNegativeInt | None = None
    restore_requested: bool | None = None


class StorageClassCount(BackfillContract):
    """Objects of one storage class (and Intelligent-Tiering archive tier) a run started or would start."""

    objects: NonNegativeInt = 0
    bytes: NonNegativeInt = 0


class ResultWriterDetails(BaseModel):
    """Where the Distributed Map's ResultWriter put its manifest.json (the Map state's
    ``ResultWriterDetails``, PascalCase as Step Functions writes it)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    Bucket: str = Field(min_length=1)
    Key: str = Field(min_length=1)


class BackfillSummaryRequest(BaseModel):
    """Where the Map's results are (its ResultWriter's manifest: one entry per object, in
    SUCCEEDED_n / FAILED_n / PENDING_n files; an object whose processing itself failed, within the
    tolerated percentage, is a FAILED entry) and whether this was a dry run. In S3, not in the state's
    payload, so a run is not capped by the 256 KiB state size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    result_writer: ResultWriterDetails
    dry_run: bool = False


class BackfillSummary(BackfillContract):
    dry_run: bool
    total: NonNegativeInt = Field(description="Objects the listing or the manifest held.")
    started: NonNegativeInt = Field(
        description="Per-file executions this run started (transcribed + "
        "failed + already_claimed + superseded)."
    )
    transcribed: NonNegativeInt
    failed: NonNegativeInt = Field(description="Per-file executions that ended FAILED (see the catalog).")
    already_started: NonNegativeInt = Field(
        description="Refused by name: the live ingress or an earlier run already has this upload's execution."
    )
    already_claimed: NonNegativeInt = Field(description="Started, but Claim found the upload claimed.")
    superseded: NonNegativeInt = Field(description="Started, but the key was overwritten meanwhile.")
    skipped: dict[str, NonNegativeInt] = Field(description="Objects not started, by SkipReason.")
    would_start: NonNegativeInt = Field(0, description="Dry run: objects a real run would start.")
    would_retry: NonNegativeInt = Field(0, description="Dry run: of those, internal failures retried.")
    item_errors: NonNegativeInt = Field(0, description="Objects whose backfill step failed (tolerated).")
    archived: NonNegativeInt = Field(0, description="Started, and ended ARCHIVED (cold, not restored).")
    restoring: NonNegativeInt = Field(
        0, description="Started, and ended RESTORING: S3's restore-completed event transcribes them."
    )
    restores_requested: NonNegativeInt = Field(0, description="RestoreObject calls this run's Decide made.")
    storage_classes: dict[str, StorageClassCount] = Field(
        default_factory=dict,
        description="Objects started (a dry run: that would start) by storage class, "
        "'INTELLIGENT_TIERING/<archive tier>' for an archived Intelligent-Tiering one.",
    )
