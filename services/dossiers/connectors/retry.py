"""Retrying: exponential backoff with jitter, and sleeping until told to stop."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable


class Backoff:
    """Delays of ``initial``, doubled after each failure up to ``maximum``, each drawn in its upper
    half (so that many clients that failed together do not retry together)."""

    def __init__(self, initial: float, maximum: float, jitter: Callable[[], float] = random.random) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self.initial, self.maximum = initial, maximum
        self._jitter = jitter
        self.failures = 0

    def next_delay(self) -> float:
        """The delay before the next try, one failure later."""
        delay = min(self.maximum, self.initial * 2**self.failures)
        self.failures += 1
        return delay * (0.5 + self._jitter() / 2)

    def reset(self) -> None:
        self.failures = 0


async def pause(stop: asyncio.Event | None, seconds: float) -> bool:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile; True if it was."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
