"""Pack windows into batches: sorted by length, each batch under a padded-audio budget.

Why sorted: a batch costs its longest member times its size (padding is computed like audio), so
windows of similar length go together. Why a budget of padded samples: encoder activation memory
grows with batch x length (attention adds batch x length^2, bounded here because windows are at most
`max_window_s`), so one number, derived from GPU memory (gpu_job.engine.engine) or configured on CPU, bounds
every batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def pack(lengths: Sequence[int], budget: int, max_items: int) -> list[list[int]]:
    """Indices of `lengths` grouped into batches, longest first; a batch's size x its longest member
    stays within `budget` (a single item longer than the budget gets a batch of its own)."""
    if budget < 1 or max_items < 1:
        raise ValueError("budget and max_items must be positive")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and ((len(current) + 1) * longest > budget or len(current) >= max_items):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
