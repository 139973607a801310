"""Long computations on the event loop, in slices: the requests beside them keep being answered.

A push of a thousand records is about 200 ms of pure Python (validation, the dossiers, their rows
and events) between a few awaits. On the loop that serves reads too (embedded, all services in one
process; or one replica reading and ingesting), every read in flight waited for each such stretch:
the reads' p99 was the length of the longest stretch (docs/performance.md, reads). A
:class:`Pacer` called in the loop of such a computation hands the event loop back once ``SLICE``
of work has passed since it last did, so nothing else waits longer than a slice.

Worker threads are no answer here: the GIL lets the loop's thread run only between a worker's
switch intervals, and each read's own release of it (SQLite's step) hands it back to the worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from time import perf_counter
from typing import TypeVar

SLICE = 0.004  # seconds of work between two turns of the event loop

T = TypeVar("T")


class Pacer:
    """Awaited once per item of a long loop: yields to the event loop when a slice is used up."""

    __slots__ = ("_since",)

    def __init__(self) -> None:
        self._since = perf_counter()

    async def __call__(self) -> None:
        if perf_counter() - self._since >= SLICE:
            await asyncio.sleep(0)
            self._since = perf_counter()


async def paced(items: Iterable[T], pacer: Pacer | None = None) -> AsyncIterator[T]:
    """``items``, one by one, with the event loop served between slices of the caller's work."""
    pace = pacer or Pacer()
    for item in items:
        await pace()
        yield item
