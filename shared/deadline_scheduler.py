"""A scheduler that sleeps until the next due instant instead of polling blindly.

A service gives it two queries: ``next_due()`` (the earliest instant at which something falls due,
or ``None``) and ``sweep(now)`` (act on everything due at ``now``; idempotent, because several
replicas may sweep the same instant). Writers call :meth:`DeadlineScheduler.poke` after a change that
may bring the next due instant closer; ``max_sleep`` bounds the wait so changes made by other
replicas, and clock adjustments, are noticed too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from shared.aio import wait_or_timeout
from shared.clock import Clock

log = logging.getLogger(__name__)


class DeadlineScheduler:
    def __init__(
        self,
        name: str,
        *,
        next_due: Callable[[], Awaitable[datetime | None]],
        sweep: Callable[[datetime], Awaitable[None]],
        clock: Clock,
        max_sleep: float = 60.0,
        error_backoff: float = 5.0,
    ) -> None:
        self.name = name
        self._next_due = next_due
        self._sweep = sweep
        self._clock = clock
        self._max_sleep = max_sleep
        self._error_backoff = error_backoff
        self._poked = asyncio.Event()

    def poke(self) -> None:
        """Something changed: re-read the next due instant now."""
        self._poked.set()

    async def run_once(self) -> datetime | None:
        """Sweep what is due now, if anything is, and return the next due instant. Most pokes
        find nothing due: they cost one query, not a sweep."""
        due = await self._next_due()
        now = self._clock.now()
        if due is None or due > now:
            return due
        await self._sweep(now)
        return await self._next_due()

    def delay_until(self, due: datetime | None) -> float:
        if due is None:
            return self._max_sleep
        seconds = (due - self._clock.now()).total_seconds()
        return min(max(seconds, 0.0), self._max_sleep)

    async def run(self) -> None:
        while True:
            self._poked.clear()
            try:
                delay = self.delay_until(await self.run_once())
            except Exception:
                log.exception("scheduler %s: sweep failed; retrying in %ss", self.name, self._error_backoff)
                delay = self._error_backoff
            await wait_or_timeout(self._poked, max(delay, 0.001))
