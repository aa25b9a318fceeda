"""What restoring cold uploads costs and how long it takes: the one table of restore list prices.

Used by ``parakeet backfill --dry-run`` (the estimate printed before anything starts), ``parakeet cost``
and benchmarks/cost_model.py. us-east-1 list prices, USD, as last known to the author (S3 pricing page,
"Requests & data retrievals"; S3 Intelligent-Tiering: no retrieval charge except an Expedited one from
its Archive Access tier). They are not fetched at run time: check https://aws.amazon.com/s3/pricing/
before quoting them. A restored Glacier / Deep Archive copy is also billed as S3 Standard storage for
the RestoreDays it is kept (Intelligent-Tiering moves the object itself back, at its own tier's price).

Times are the tiers' documented upper bounds (pipeline.archive.RESTORE_HOURS): the estimate is how long
until the last restore may complete, not a promise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.archive import RESTORE_HOURS, TIERS, ColdState, restore_tier
from pipeline.types import RestoreArchived

GB = 1024**3
# S3 Standard storage, per GB-month, first 50 TB: what a restored copy costs per GB-day (/ 30).
STANDARD_STORAGE_PER_GB_MONTH = 0.023


@dataclass(frozen=True)
class RestorePrice:
    """Retrieval price of one class (or Intelligent-Tiering archive tier) and retrieval tier."""

    per_gb: float
    per_1000_requests: float


# (storage class, Intelligent-Tiering archive status or None, tier) -> list price.
RESTORE_PRICES: dict[tuple[str, str | None, str], RestorePrice] = {
    ("GLACIER", None, "Expedited"): RestorePrice(0.03, 10.00),
    ("GLACIER", None, "Standard"): RestorePrice(0.01, 0.05),
    ("GLACIER", None, "Bulk"): RestorePrice(0.0, 0.0),
    ("DEEP_ARCHIVE", None, "Standard"): RestorePrice(0.02, 0.10),
    ("DEEP_ARCHIVE", None, "Bulk"): RestorePrice(0.0025, 0.025),
    ("INTELLIGENT_TIERING", "ARCHIVE_ACCESS", "Expedited"): RestorePrice(0.03, 10.00),
    ("INTELLIGENT_TIERING", "ARCHIVE_ACCESS", "Standard"): RestorePrice(0.0, 0.0),
    ("INTELLIGENT_TIERING", "ARCHIVE_ACCESS", "Bulk"): RestorePrice(0.0, 0.0),
    ("INTELLIGENT_TIERING", "DEEP_ARCHIVE_ACCESS", "Standard"): RestorePrice(0.0, 0.0),
    ("INTELLIGENT_TIERING", "DEEP_ARCHIVE_ACCESS", "Bulk"): RestorePrice(0.0, 0.0),
}


@dataclass(frozen=True)
class ClassEstimate:
    """The restore of ``objects`` cold objects (``size_bytes`` in all) of one class."""

    storage_class: str
    archive_status: str | None
    objects: int
    size_bytes: int
    tier: str
    retrieval_usd: float
    requests_usd: float
    copy_storage_usd: float
    hours: float
    note: str | None = None

    @property
    def usd(self) -> float:
        return self.retrieval_usd + self.requests_usd + self.copy_storage_usd


@dataclass(frozen=True)
class RestoreEstimate:
    tier: str
    days: int
    classes: list[ClassEstimate] = field(default_factory=list)

    @property
    def objects(self) -> int:
        return sum(c.objects for c in self.classes)

    @property
    def usd(self) -> float:
        return sum(c.usd for c in self.classes)

    @property
    def hours(self) -> float:
        """Until the slowest class's restores may all have completed (they run in parallel)."""
        return max((c.hours for c in self.classes), default=0.0)


def estimate_class(
    storage_class: str,
    archive_status: str | None,
    objects: int,
    size_bytes: int,
    tier: RestoreArchived,
    days: int,
) -> ClassEstimate:
    """One class's restore cost with ``tier`` (Expedited on Deep Archive: Standard, as the Probe does)."""
    state = ColdState(storage_class, archive_status, "none")
    used, note = restore_tier(tier if tier != "off" else "bulk", state)
    assert used is not None
    price = RESTORE_PRICES[(storage_class, archive_status if state.intelligent_tiering else None, used)]
    gb = size_bytes / GB
    copy_days = 0 if state.intelligent_tiering else days
    return ClassEstimate(
        storage_class=storage_class,
        archive_status=archive_status,
        objects=objects,
        size_bytes=size_bytes,
        tier=used,
        retrieval_usd=gb * price.per_gb,
        requests_usd=objects * price.per_1000_requests / 1000,
        copy_storage_usd=gb * copy_days * STANDARD_STORAGE_PER_GB_MONTH / 30,
        hours=RESTORE_HOURS[(state.deep, used)],
        note=note,
    )


def estimate(
    counts: Iterable[tuple[str, str | None, int, int]], tier: RestoreArchived, days: int
) -> RestoreEstimate:
    """The restore of every cold class in ``counts`` (storage class, archive status, objects, bytes)."""
    if tier != "off" and tier not in TIERS:
        raise ValueError(f"not a restore tier: {tier!r}")
    classes = [
        estimate_class(storage_class, status, objects, size, tier, days)
        for storage_class, status, objects, size in counts
        if objects and ColdState(storage_class, status, "none").archived
    ]
    return RestoreEstimate(tier=tier, days=days, classes=classes)
