"""Stopping a runtime on SQLite: a task cancelled inside a write transaction leaves no lock behind.

A task cancelled while its statement runs has its connection closed without a rollback
(SQLAlchemy invalidates it). SQLite does not close a connection whose statement still holds
rows (the cancelled ``SELECT``, or an ``INSERT … RETURNING``): it keeps it, its transaction and
the write lock, until that statement is freed. Any other writer then waited the whole
``busy_timeout`` (30 s), and ``Runtime.stop`` with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import make_url

from shared.runtime import Runtime
from shared.service import ServiceContext
from tests.support import probe

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


class Gate:
    """An SQL function ``gate()`` that blocks its statement, in the driver's thread, until opened."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> int:
        self.entered.set()
        self.opened.wait(5)
        return 1

    def install(self, context: ServiceContext) -> None:
        """On the connections of the writing engine that open from now on."""
        event.listen(
            context.db.engine.sync_engine, "connect", lambda connection, _: connection.create_function("gate", 0, self)
        )

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 5), "no statement reached the gate"


def writable_now(context: ServiceContext) -> bool:
    """True when another connection takes the write lock within a second."""
    connection = sqlite3.connect(make_url(context.db.url).database or "", timeout=1, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


async def test_a_task_cancelled_mid_statement_leaves_the_database_writable(make_settings: Callable[..., Any]):
    settings = await make_settings("probe")
    runtime = Runtime([probe.definition()], settings)
    context = runtime["probe"]
    await probe.create_tables(context)
    gate = Gate()
    gate.install(context)
    await context.db.engine.dispose()  # the next connection has the gate

    async def write_then_read() -> None:
        async with context.uow() as uow:
            await uow.session.execute(insert(probe.effects).values(event_id="e1", note="n"))
            await uow.session.execute(text("SELECT gate()"))
            await uow.commit()

    try:
        assert writable_now(context)  # the positive control of the check below
        task = asyncio.create_task(write_then_read())
        await gate.wait_entered()
        task.cancel()
        gate.opened.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert writable_now(context), "the cancelled transaction still holds the write lock"
        assert await probe.effect_notes(context) == []  # and it was rolled back
    finally:
        await runtime.stop()


async def test_stop_is_prompt_while_one_task_writes_and_another_waits_for_the_lock(
    make_settings: Callable[..., Any],
):
    """The shape seen on `Runtime.stop`: one background task is inside a write transaction
    (a consumer, a sweep), another waits in ``BEGIN IMMEDIATE`` for its lock (the relay)."""
    gate = Gate()
    waiting = asyncio.Event()

    async def holder(context: ServiceContext) -> None:
        async with context.uow() as uow:
            await uow.session.execute(insert(probe.effects).values(event_id="e1", note="held"))
            await uow.session.execute(text("SELECT gate()"))
            await uow.commit()
        await asyncio.Event().wait()

    async def waiter(context: ServiceContext) -> None:
        await gate.wait_entered()
        waiting.set()
        async with context.uow() as uow:
            await uow.session.execute(insert(probe.effects).values(event_id="e2", note="waited"))
            await uow.commit()
        await asyncio.Event().wait()

    definition = dataclasses.replace(probe.definition(), workers=[holder, waiter])
    runtime = Runtime([definition], await make_settings("probe"))
    context = runtime["probe"]
    await probe.create_tables(context)
    gate.install(context)
    await context.db.engine.dispose()
    await runtime.start(relays=False, schedulers=False)
    await asyncio.wait_for(waiting.wait(), 5)
    await asyncio.sleep(0.2)  # the waiter's BEGIN IMMEDIATE is now waiting for the holder's lock

    started = time.monotonic()
    stopping = asyncio.create_task(runtime.stop())
    await asyncio.sleep(0.1)
    gate.opened.set()  # the holder's statement ends after it was cancelled
    await stopping
    assert time.monotonic() - started < 3

    assert writable_now(context)
    async with context.db.session() as session:
        notes = set((await session.scalars(select(probe.effects.c.note))).all())
    await context.db.dispose()
    assert "held" not in notes  # the cancelled transaction was rolled back
