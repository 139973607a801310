"""Small asyncio helpers."""

from __future__ import annotations

import asyncio


async def wait_or_timeout(event: asyncio.Event, timeout: float) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds; True if it was set.

    ``asyncio.timeout`` rather than ``wait_for``: on Python 3.11 ``wait_for`` can swallow a
    cancellation that arrives as the event is set, which leaves a stopping task running forever.
    """
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def pause(stop: asyncio.Event | None, seconds: float) -> bool:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile; True if it was."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    return await wait_or_timeout(stop, seconds)
