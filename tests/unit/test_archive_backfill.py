"""Specifications of a backfill's cold objects (docs/ARCHIVES.md): Decide's storage facts and restores
within the run's caps (backfill_item.restore_budget), the summary per storage class, the restore price
table (pipeline.restore_prices) and the per-upload RestoreArchived rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from backfill_item.decide import decide
from backfill_item.restore_budget import budget_uri, take_slot
from backfill_item.summary import summarise
from moto import mock_aws
from pipeline.archive import ColdState, restore_elsewhere
from pipeline.backfill import BackfillItemRequest, RunRestore
from pipeline.outcomes import UnsupportedInput
from pipeline.restore_prices import GB, RESTORE_PRICES, estimate
from probe_audio.tags import restore_archived_for

BUCKET = "archive"
NOW = datetime(2026, 12, 7, 5, 40, tzinfo=UTC)


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        table = dynamodb.create_table(
            TableName="catalog",
            KeySchema=[
                {"AttributeName": "source_uri", "KeyType": "HASH"},
                {"AttributeName": "etag", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "source_uri", "AttributeType": "S"},
                {"AttributeName": "etag", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield table


class Restores:
    """The S3 calls Decide makes: HeadObject answers per key, RestoreObject recorded."""

    def __init__(self, heads: dict[str, dict[str, Any]] | None = None) -> None:
        self.heads = heads or {}
        self.restored: list[dict[str, Any]] = []

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        return self.heads[kwargs["Key"]]

    def restore_object(self, **kwargs: Any) -> dict[str, Any]:
        self.restored.append(kwargs)
        return {}


def listed(
    key: str, storage_class: str, restore: RunRestore | None = None, **extra: Any
) -> BackfillItemRequest:
    item = {
        "Key": key,
        "Etag": '"e1"',
        "Size": 2 * GB,
        "LastModified": 1700000000,
        "StorageClass": storage_class,
    }
    return BackfillItemRequest(
        bucket=BUCKET, prefix="", source="listing", item={**item, **extra}, run="run-1", restore=restore
    )


def test_a_dry_run_says_each_objects_storage_class_and_an_intelligent_tiering_ones_tier(aws: Any) -> None:
    s3 = Restores({"it.wav": {"StorageClass": "INTELLIGENT_TIERING", "ArchiveStatus": "DEEP_ARCHIVE_ACCESS"}})
    decisions = {
        key: decide(
            listed(key, storage_class).model_copy(update={"dry_run": True}), aws, (), "1", "us-east-1", s3
        )
        for key, storage_class in (
            ("a.wav", "STANDARD"),
            ("g.wav", "GLACIER"),
            ("it.wav", "INTELLIGENT_TIERING"),
        )
    }
    assert {k: (d.outcome, d.storage_class, d.archive_status) for k, d in decisions.items()} == {
        "a.wav": ("would_start", "STANDARD", None),
        "g.wav": ("would_start", "GLACIER", None),
        "it.wav": ("would_start", "INTELLIGENT_TIERING", "DEEP_ARCHIVE_ACCESS"),
    }
    # A dry run restores nothing
    assert s3.restored == []


def test_a_restoring_run_restores_cold_objects_once_each_within_its_cap_and_never_a_warm_one(
    aws: Any,
) -> None:
    s3 = Restores()
    restore = RunRestore(tier="bulk", days=2, max_restores=2)
    outcomes = [
        decide(listed(key, storage_class, restore), aws, (), "1", "us-east-1", s3, NOW)
        for key, storage_class in (
            ("warm.wav", "STANDARD"),
            ("g1.wav", "GLACIER"),
            ("d1.wav", "DEEP_ARCHIVE"),
            ("g2.wav", "GLACIER"),
        )
    ]
    assert [(d.action, d.outcome, d.reason, d.restore_requested) for d in outcomes] == [
        ("start", "start", None, False),
        ("start", "start", None, True),
        ("start", "start", None, True),
        ("done", "skipped", "restore_cap", False),
    ]
    assert [(r["Key"], r["RestoreRequest"]) for r in s3.restored] == [
        ("g1.wav", {"GlacierJobParameters": {"Tier": "Bulk"}, "Days": 2}),
        ("d1.wav", {"GlacierJobParameters": {"Tier": "Bulk"}, "Days": 2}),
    ]
    # The counters live under the run's own key, never an upload's row
    counter = aws.get_item(Key={"source_uri": budget_uri("run-1"), "etag": "total"})["Item"]
    assert counter["restores"] == 2


def test_an_hours_cap_makes_the_next_cold_object_wait_until_the_next_hour_then_take_its_slot(
    aws: Any,
) -> None:
    restore = RunRestore(tier="standard", max_restores_per_hour=1, max_restores=5)
    assert take_slot(aws, "r", restore, NOW) == ("ok", 0)
    slot, wait_s = take_slot(aws, "r", restore, NOW)
    assert slot == "wait" and wait_s == 20 * 60 + 1  # 05:40 -> 06:00
    assert take_slot(aws, "r", restore, NOW.replace(hour=6, minute=0)) == ("ok", 0)
    # A wait took nothing from the total
    total = aws.get_item(Key={"source_uri": budget_uri("r"), "etag": "total"})["Item"]["restores"]
    assert total == 2


def test_a_slot_refused_by_the_total_gives_its_hour_back(aws: Any) -> None:
    restore = RunRestore(tier="bulk", max_restores_per_hour=5, max_restores=1)
    assert take_slot(aws, "r", restore, NOW) == ("ok", 0)
    assert take_slot(aws, "r", restore, NOW) == ("cap", 0)
    hour = aws.get_item(Key={"source_uri": budget_uri("r"), "etag": "hour/2026-12-07T05"})["Item"]
    assert hour["restores"] == 1


def test_the_decision_for_a_wait_goes_back_to_decide_in_the_asl() -> None:
    import json
    from pathlib import Path

    asl = json.loads((Path(__file__).resolve().parents[2] / "statemachine" / "backfill.asl.json").read_text())
    for map_state, prefix in (("BackfillPrefix", "Listing"), ("BackfillManifest", "Manifest")):
        states = asl["States"][map_state]["ItemProcessor"]["States"]
        [rule] = [c for c in states[f"{prefix}MustStart"]["Choices"] if c["StringEquals"] == "wait"]
        wait = states[rule["Next"]]
        assert (wait["Type"], wait["SecondsPath"], wait["Next"]) == (
            "Wait",
            "$.decision.wait_s",
            f"{prefix}Decide",
        )
        # Decide is handed only its request's fields, so the second ask parses as the first
        assert set(states[f"{prefix}Decide"]["Parameters"]) == {
            f"{name}.$" for name in BackfillItemRequest.model_fields
        }


def test_the_summary_counts_started_objects_per_storage_class_and_the_restores() -> None:
    results = [
        {"outcome": "transcribed", "storage_class": "STANDARD", "size": 10},
        {"outcome": "restoring", "storage_class": "GLACIER", "size": 5, "restore_requested": True},
        {
            "outcome": "restoring",
            "storage_class": "INTELLIGENT_TIERING",
            "archive_status": "ARCHIVE_ACCESS",
            "size": 7,
        },
        {"outcome": "skipped", "reason": "restore_cap", "storage_class": "GLACIER", "size": 5},
        {"outcome": "archived", "storage_class": "DEEP_ARCHIVE", "size": 3},
    ]
    summary = summarise(results)
    assert (summary.started, summary.restoring, summary.archived, summary.restores_requested) == (4, 2, 1, 1)
    assert summary.skipped == {"restore_cap": 1}
    assert {k: (v.objects, v.bytes) for k, v in summary.storage_classes.items()} == {
        "DEEP_ARCHIVE": (1, 3),
        "GLACIER": (1, 5),
        "INTELLIGENT_TIERING/ARCHIVE_ACCESS": (1, 7),
        "STANDARD": (1, 10),
    }


def test_the_restore_estimate_prices_retrieval_requests_and_the_restored_copy_per_class() -> None:
    counts = [
        ("STANDARD", None, 100, 100 * GB),
        ("GLACIER", None, 1000, 10 * GB),
        ("DEEP_ARCHIVE", None, 2000, 20 * GB),
        ("INTELLIGENT_TIERING", "ARCHIVE_ACCESS", 10, GB),
    ]
    priced = estimate(counts, "standard", days=3)
    by_class = {c.storage_class: c for c in priced.classes}
    assert set(by_class) == {"GLACIER", "DEEP_ARCHIVE", "INTELLIGENT_TIERING"}  # STANDARD is not cold
    glacier = by_class["GLACIER"]
    price = RESTORE_PRICES[("GLACIER", None, "Standard")]
    assert glacier.retrieval_usd == pytest.approx(10 * price.per_gb)
    assert glacier.requests_usd == pytest.approx(1000 * price.per_1000_requests / 1000)
    assert glacier.copy_storage_usd == pytest.approx(10 * 3 * 0.023 / 30)
    # Intelligent-Tiering: no retrieval charge on Standard, and no copy (the object itself moves back)
    assert by_class["INTELLIGENT_TIERING"].usd == 0.0
    assert priced.hours == 12.0  # Deep Archive Standard, the slowest
    # Expedited on Deep Archive is priced as the Standard it falls back to
    [deep] = estimate([("DEEP_ARCHIVE", None, 1, GB)], "expedited", 1).classes
    assert deep.tier == "Standard" and deep.note is not None


def test_every_tier_the_probe_can_use_has_a_price() -> None:
    for storage_class, status in (
        ("GLACIER", None),
        ("DEEP_ARCHIVE", None),
        ("INTELLIGENT_TIERING", "ARCHIVE_ACCESS"),
        ("INTELLIGENT_TIERING", "DEEP_ARCHIVE_ACCESS"),
    ):
        for tier in ("bulk", "standard", "expedited"):
            assert estimate([(storage_class, status, 1, GB)], tier, 1).classes  # type: ignore[arg-type]


def test_restore_archived_is_the_tag_else_the_stack_default_and_a_bad_tag_is_bad_input() -> None:
    assert restore_archived_for({}, "calls/a.wav", "off") == "off"
    assert restore_archived_for({"Restore-Archived": " Bulk "}, "calls/a.wav", "off") == "bulk"
    with pytest.raises(UnsupportedInput, match="restore-archived"):
        restore_archived_for({"restore-archived": "soon"}, "calls/a.wav", "off")


def test_a_restore_someone_else_asked_for_is_restoring_timed_as_bulk() -> None:
    info = restore_elsewhere(ColdState("DEEP_ARCHIVE", None, "in_progress"), 1, NOW)
    assert (info.restore, info.tier, info.requested) == ("in_progress", None, None)
    assert info.expected_by == "2026-12-09T05:40:00.000Z"  # Deep Archive bulk: 48 h
    assert info.note and "outside this execution" in info.note
