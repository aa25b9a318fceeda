"""Specification of pipeline.cost.summarise_costs: totals of catalog items per prefix, mode or language."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pipeline.contracts import CatalogItem
from pipeline.cost import CostTotals, key_prefix, summarise_costs


def row(key: str, duration_s: float, gpu_s: float, cost: float | None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "source_uri": f"s3://in/{key}",
        "etag": "e",
        "status": "TRANSCRIBED",
        "key": key,
        "duration_s": duration_s,
        "timings": {"download": 0.0, "decode": 0.0, "load": 0.0, "inference": gpu_s, "total": gpu_s},
        "mode": "full",
        "language": "en",
        **extra,
    }
    if cost is not None:
        item["cost_estimate_usd"] = cost
    return item


def test_items_are_summed_per_top_level_prefix() -> None:
    # Given two calls and a lecture, when summarised by prefix, then each folder gets its own totals.
    items = [
        row("calls/a.wav", 180, 2.0, 0.001),
        row("calls/b.wav", 540, 4.0, 0.002),
        row("lectures/2024/c.mp3", 10800, 30.0, 0.01),
    ]
    totals = summarise_costs(items, by="prefix")
    assert list(totals) == ["calls/", "lectures/"]
    assert totals["calls/"].files == 2
    assert math.isclose(totals["calls/"].audio_hours, 0.2)
    assert math.isclose(totals["calls/"].gpu_seconds, 6.0)
    assert math.isclose(totals["calls/"].cost_usd, 0.003)
    assert math.isclose(totals["lectures/"].usd_per_audio_hour or 0, 0.01 / 3)


def test_a_deeper_prefix_splits_subfolders_and_root_keys_group_under_the_empty_prefix() -> None:
    items = [
        row("lectures/2024/c.mp3", 3600, 1, 0.1),
        row("lectures/2025/d.mp3", 3600, 1, 0.1),
        row("e.wav", 60, 1, 0),
    ]
    assert list(summarise_costs(items, by="prefix", prefix_depth=2)) == [
        "",
        "lectures/2024/",
        "lectures/2025/",
    ]
    assert key_prefix("a/b/c/file.wav", 2) == "a/b/"
    assert key_prefix("file.wav") == ""


def test_by_mode_and_by_language_with_undetermined_languages_grouped_as_und() -> None:
    items = [
        row("a.wav", 60, 1, 0.01, mode="full", language="de"),
        row("b.wav", 60, 1, 0.01, mode="streaming", language=None),
        row("c.wav", 60, 1, 0.01, mode="streaming", language="de"),
    ]
    assert {k: v.files for k, v in summarise_costs(items, by="mode").items()} == {"full": 1, "streaming": 2}
    assert {k: v.files for k, v in summarise_costs(items, by="language").items()} == {"de": 2, "und": 1}


def test_only_transcribed_rows_count_and_unpriced_rows_are_counted_not_guessed() -> None:
    # Given a failed row and a transcribed row without a cost estimate, then the failed one is left
    # out and the unpriced one adds audio and GPU time but no dollars, and is reported as unpriced.
    items = [
        row("calls/a.wav", 3600, 10, 0.5),
        row("calls/b.wav", 3600, 20, None),
        {"source_uri": "s3://in/calls/c.wav", "etag": "e", "status": "FAILED", "key": "calls/c.wav"},
    ]
    totals = summarise_costs(items)["calls/"]
    assert totals == CostTotals(files=2, audio_hours=2.0, gpu_seconds=30.0, cost_usd=0.5, unpriced_files=1)


def test_catalog_item_models_are_accepted_like_rows() -> None:
    item = CatalogItem.model_validate(row("calls/a.wav", 1800, 3, 0.02))
    assert summarise_costs([item])["calls/"].audio_hours == 0.5


def test_a_row_without_a_key_uses_the_source_uri() -> None:
    item = row("x", 60, 1, 0.01)
    item.pop("key")
    item["source_uri"] = "s3://in/calls/z.wav"
    assert list(summarise_costs([item])) == ["calls/"]


def test_an_unknown_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot group by"):
        summarise_costs([row("a.wav", 1, 1, 0)], by="bucket")  # type: ignore[arg-type]


def test_no_items_no_groups() -> None:
    assert summarise_costs([]) == {}


def test_a_pool_row_counts_the_gpu_seconds_it_was_priced_by() -> None:
    # A pool file's own timings.total includes the worker's model load; index_transcript prices its share.
    totals = summarise_costs([row("calls/a.wav", 180, 9.0, 0.001, gpu_seconds=1.5)], by="prefix")
    assert math.isclose(totals["calls/"].gpu_seconds, 1.5)
    merged = totals["calls/"].merged(totals["calls/"])
    assert merged.files == 2 and math.isclose(merged.gpu_seconds, 3.0)


def test_a_restored_upload_carries_its_restore_list_price() -> None:
    from pipeline.restore_prices import RESTORE_PRICES, STANDARD_STORAGE_PER_GB_MONTH

    # Given a 10 GB hour of audio restored from Deep Archive with Bulk, its copy kept 2 days, beside a
    # warm upload
    gb = 1024**3
    archive = {"storage_class": "DEEP_ARCHIVE", "restore": "none", "tier": "Bulk", "days": 2}
    items = [
        row("vault/a.wav", 3600, 10.0, 0.002, size=10 * gb, archive=archive),
        row("vault/b.wav", 3600, 10.0, 0.002, size=gb),
    ]
    # When summarised
    [totals] = summarise_costs(items, by="prefix").values()
    # Then the restore is priced from the list: retrieval per GB, one request, the copy's 2 days of storage
    price = RESTORE_PRICES[("DEEP_ARCHIVE", None, "Bulk")]
    expected = (
        10 * price.per_gb + price.per_1000_requests / 1000 + 10 * 2 * STANDARD_STORAGE_PER_GB_MONTH / 30
    )
    assert totals.restored_files == 1
    assert math.isclose(totals.restore_usd, expected)
    # And the GPU dollars stay apart, while the per-hour figure counts both
    assert math.isclose(totals.cost_usd, 0.004)
    assert math.isclose(totals.usd_per_audio_hour or 0, (0.004 + expected) / 2)


def test_an_intelligent_tiering_restore_has_no_copy_to_keep() -> None:
    from pipeline.restore_prices import RESTORE_PRICES

    # Given an upload brought back from Intelligent-Tiering's Archive Access tier with Expedited
    archive = {
        "storage_class": "INTELLIGENT_TIERING",
        "archive_status": "ARCHIVE_ACCESS",
        "restore": "none",
        "tier": "Expedited",
    }
    items = [row("vault/a.wav", 60, 1.0, 0.001, size=1024**3, archive=archive)]
    # When summarised, then only the retrieval and its request are charged (the object itself moves back)
    [totals] = summarise_costs(items).values()
    price = RESTORE_PRICES[("INTELLIGENT_TIERING", "ARCHIVE_ACCESS", "Expedited")]
    assert math.isclose(totals.restore_usd, price.per_gb + price.per_1000_requests / 1000)
