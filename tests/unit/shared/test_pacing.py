"""A paced loop hands the event loop over between slices of its work, and only then."""

from __future__ import annotations

import asyncio

import pytest

from shared import pacing
from shared.pacing import Pacer, paced
from tests.support.loop import turns_beside


async def interleaving(items: int) -> list[str]:
    """What a paced loop of ``items`` and a task beside it did, in order."""
    order: list[str] = []
    async with turns_beside(order, "beside"):
        async for item in paced(range(items)):
            order.append(f"item {item}")
    return order


async def test_a_used_up_slice_lets_the_task_beside_run_before_the_next_item(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pacing, "SLICE", 0.0)
    order = await interleaving(3)
    items = [i for i, what in enumerate(order) if what.startswith("item")]
    assert len(items) == 3
    assert all("beside" in order[a:b] for a, b in zip(items, items[1:], strict=False))


async def test_within_a_slice_the_items_follow_each_other(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pacing, "SLICE", 60.0)
    order = await interleaving(3)
    first = order.index("item 0")
    assert order[first : first + 3] == ["item 0", "item 1", "item 2"]


async def test_one_pacer_counts_the_slice_across_loops(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pacing, "SLICE", 60.0)
    pace = Pacer()
    turns = 0

    async def count() -> None:
        nonlocal turns
        turns += 1

    task = asyncio.create_task(count())
    async for _ in paced(range(100), pace):
        pass
    await pace()
    assert turns == 0  # no turn of the loop yet: the slice is not used up
    await task
    assert turns == 1
