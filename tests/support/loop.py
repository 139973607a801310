"""A task beside the code under test that notes every turn of the event loop it is given."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def turns_beside(log: list[str], mark: str) -> AsyncIterator[None]:
    """While the block runs, a task appends ``mark`` to ``log`` each time the loop runs it."""
    done = asyncio.Event()

    async def beside() -> None:
        while not done.is_set():
            log.append(mark)
            await asyncio.sleep(0)

    task = asyncio.create_task(beside())
    await asyncio.sleep(0)  # it has begun
    try:
        yield
    finally:
        done.set()
        await task
