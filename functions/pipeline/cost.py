"""Sum audio hours, GPU seconds and estimated dollars over catalog items, grouped by prefix, mode or
language: what a cost report (a later CLI) needs, as a plain function over CatalogItem rows.

Only TRANSCRIBED rows count: a FAILED row has no timings, and its cost is not attributed. GPU seconds
are the figure index_transcript priced: the row's ``gpu_seconds`` for a pool file (its share of the
worker's GPU time), else ``timings.total`` (what its own job held the GPU for); and
the dollars are the row's own ``cost_estimate_usd``; a row without one is counted in
``unpriced_files`` rather than guessed. A row without a language groups under "und", without a mode
under "unknown"; the prefix is the key's first ``prefix_depth`` folders ("" for a key at the root).

A row whose bytes the workflow restored from an archive (its ``archive`` names the tier, claim_source)
also carries that restore's list price (pipeline.restore_prices: retrieval, request and the restored
copy's storage for its days) as ``restore_usd``; ``usd_per_audio_hour`` counts both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.restore_prices import estimate_class

GroupBy = Literal["prefix", "mode", "language"]
UNDETERMINED_LANGUAGE = "und"
UNKNOWN_MODE = "unknown"


@dataclass(frozen=True)
class CostTotals:
    files: int = 0
    audio_hours: float = 0.0
    gpu_seconds: float = 0.0
    cost_usd: float = 0.0
    unpriced_files: int = 0
    restore_usd: float = 0.0
    restored_files: int = 0

    def add(
        self, audio_s: float, gpu_s: float, cost_usd: float | None, restore_usd: float | None = None
    ) -> CostTotals:
        return CostTotals(
            files=self.files + 1,
            audio_hours=self.audio_hours + audio_s / 3600.0,
            gpu_seconds=self.gpu_seconds + gpu_s,
            cost_usd=self.cost_usd + (cost_usd or 0.0),
            unpriced_files=self.unpriced_files + (cost_usd is None),
            restore_usd=self.restore_usd + (restore_usd or 0.0),
            restored_files=self.restored_files + (restore_usd is not None),
        )

    def merged(self, other: CostTotals) -> CostTotals:
        """Both totals together (a report's grand total over its groups)."""
        return CostTotals(
            files=self.files + other.files,
            audio_hours=self.audio_hours + other.audio_hours,
            gpu_seconds=self.gpu_seconds + other.gpu_seconds,
            cost_usd=self.cost_usd + other.cost_usd,
            unpriced_files=self.unpriced_files + other.unpriced_files,
            restore_usd=self.restore_usd + other.restore_usd,
            restored_files=self.restored_files + other.restored_files,
        )

    @property
    def usd_per_audio_hour(self) -> float | None:
        """GPU and restore dollars per audio hour."""
        return (self.cost_usd + self.restore_usd) / self.audio_hours if self.audio_hours > 0 else None


def key_prefix(key: str, depth: int = 1) -> str:
    """The first `depth` folders of an object key, with a trailing slash ("calls/2024/")."""
    folders = key.split("/")[:-1][:depth]
    return "".join(f"{folder}/" for folder in folders)


def _group(item: Mapping[str, Any], by: GroupBy, prefix_depth: int) -> str:
    if by == "prefix":
        key = item.get("key")
        if not key:
            uri = str(item.get("source_uri", ""))
            key = uri.removeprefix("s3://").partition("/")[2]
        return key_prefix(str(key), prefix_depth)
    if by == "mode":
        return str(item.get("mode") or UNKNOWN_MODE)
    if by == "language":
        return str(item.get("language") or UNDETERMINED_LANGUAGE)
    raise ValueError(f"cannot group by {by!r}: prefix, mode or language")


def restore_usd(item: Mapping[str, Any]) -> float | None:
    """The list price of the restore that made this row's bytes readable; None when none was made."""
    archive = item.get("archive") or {}
    tier, storage_class = archive.get("tier"), archive.get("storage_class")
    if not tier or not storage_class:
        return None
    days = int(_number(archive.get("days")) or 1)
    size = int(_number(item.get("size")) or 0)
    restored = estimate_class(storage_class, archive.get("archive_status"), 1, size, tier.lower(), days)
    return restored.usd


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def summarise_costs(
    items: Iterable[Mapping[str, Any] | Any], by: GroupBy = "prefix", prefix_depth: int = 1
) -> dict[str, CostTotals]:
    """Totals per group, groups sorted by name. `items` are catalog rows as dicts (from_dynamo's
    floats) or CatalogItem models."""
    totals: dict[str, CostTotals] = {}
    for raw in items:
        item = raw.model_dump() if hasattr(raw, "model_dump") else raw
        if item.get("status") != "TRANSCRIBED":
            continue
        group = _group(item, by, prefix_depth)
        timings = item.get("timings") or {}
        gpu_s = _number(item.get("gpu_seconds"))
        totals[group] = totals.get(group, CostTotals()).add(
            _number(item.get("duration_s")) or 0.0,
            gpu_s if gpu_s is not None else (_number(timings.get("total")) or 0.0),
            _number(item.get("cost_estimate_usd")),
            restore_usd(item),
        )
    return dict(sorted(totals.items()))
