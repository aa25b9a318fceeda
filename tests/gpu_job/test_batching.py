"""Packing windows into length-sorted batches under a padded-audio budget (gpu_job.engine.batching)."""

from __future__ import annotations

import random

import pytest

from gpu_job.engine.batching import pack


def test_every_window_lands_in_exactly_one_batch_within_the_budget() -> None:
    rng = random.Random(7)
    lengths = [rng.randint(1, 100) for _ in range(500)]
    batches = pack(lengths, budget=1000, max_items=32)
    assert sorted(i for b in batches for i in b) == list(range(500))
    for b in batches:
        assert len(b) <= 32
        assert len(b) * max(lengths[i] for i in b) <= 1000


def test_batches_are_sorted_longest_first_so_padding_is_small() -> None:
    lengths = [5, 100, 6, 99, 7, 98]
    batches = pack(lengths, budget=300, max_items=8)
    assert [[lengths[i] for i in b] for b in batches] == [[100, 99, 98], [7, 6, 5]]


def test_an_item_longer_than_the_budget_gets_a_batch_of_its_own() -> None:
    assert pack([50, 500, 40], budget=100, max_items=8) == [[1], [0, 2]]


def test_a_budget_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        pack([1], budget=0, max_items=1)
