"""The outbox: one row per unit of work holding its events, and the relay that publishes them in order."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Delete, Row, Select, Update, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.aio import wait_or_timeout
from shared.bus.base import EventBus, Message
from shared.clock import Clock
from shared.db import Database, rowcount
from shared.kernel_tables import KernelTables
from shared.metrics import OUTBOX_PUBLISHED

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(minutes=10)
# The relay's turn, and, for its transaction, no bitmap scans: PostgreSQL's estimate of the
# unpublished rows is low, and a bitmap scan of the partial index, then a sort, visits every
# entry the relay deleted or marked since the last vacuum (7 µs an event; the index scan in
# id order skips them: 4 µs).
CLAIM_LOCK = text("select pg_try_advisory_xact_lock(:k) from set_config('enable_bitmapscan', 'off', true)")
LINE = "\n"  # CloudEvents JSON from orjson never holds a raw line break


def pack(topic: str, events: Sequence[tuple[str, str]], created_at: datetime) -> dict[str, Any]:
    """The outbox row of one unit of work's ``(key, envelope)`` events, in emission order.

    One row instead of one per event: a bulk ingest's thousands of events cost PostgreSQL one
    insert, one claim and one delete (measured in ``docs/performance.md``).
    """
    keys = LINE.join(key for key, _ in events)
    if keys.count(LINE) != len(events) - 1:
        raise ValueError("an event key (its subject) holds a line break")
    payload = LINE.join(envelope for _, envelope in events)
    return {"topic": topic, "events": len(events), "event_keys": keys, "payload": payload, "created_at": created_at}


def unpack(keys: str, payload: str) -> list[tuple[str, bytes]]:
    """The ``(key, envelope)`` events of one outbox row, in emission order."""
    return list(zip(keys.split(LINE), payload.encode().split(LINE.encode()), strict=True))


class OutboxRelay:
    """Moves one service's outbox to the bus.

    Published events are deleted (the bus keeps them: Kafka's own retention), or, with a
    ``retention``, marked published and purged once older than it.

    On PostgreSQL several replicas may run a relay: a transaction-scoped advisory lock lets
    one publish at a time (so one aggregate's events keep their order) and the batch is
    claimed ``FOR UPDATE SKIP LOCKED``. The relay sleeps until a commit wakes it, with an
    idle check every ``idle_interval`` seconds for commits made by other processes.
    """

    def __init__(
        self,
        service: str,
        db: Database,
        tables: KernelTables,
        bus: EventBus,
        clock: Clock,
        *,
        batch_size: int = 1000,
        idle_interval: float = 1.0,
        retry_delay: float = 1.0,
        retention: timedelta = timedelta(0),
    ) -> None:
        self.service = service
        self._db = db
        self._outbox = tables.outbox
        self._bus = bus
        self._clock = clock
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._retry_delay = retry_delay
        self._retention = retention
        self._next_purge = clock.now()
        self._wakeup = asyncio.Event()
        self._lock_key = zlib.crc32(f"cchc.outbox.{service}".encode())

    def wake(self) -> None:
        """Called after a commit that wrote events."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                published = await self.publish_batch()
                if published >= self._batch_size:
                    continue
                if self._clock.now() >= self._next_purge:  # with no retention: rows kept under an earlier one
                    await self.purge()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay of %s failed; retrying", self.service)
                await asyncio.sleep(self._retry_delay)
                continue
            await wait_or_timeout(self._wakeup, self._idle_interval)

    async def drain(self) -> int:
        """Publish until the outbox is empty; returns how many were published."""
        total = 0
        while (published := await self.publish_batch()) > 0:
            total += published
        return total

    async def publish_batch(self) -> int:
        """Publish the oldest units of work, about ``batch_size`` events; returns how many events."""
        async with self._db.session() as session:
            if self._db.is_postgres:
                async with session.begin():
                    if not (await session.execute(CLAIM_LOCK, {"k": self._lock_key})).scalar_one():
                        return 0
                    published = await self._publish(await self._claim(session))
            else:
                # One relay per SQLite file: short transactions, so writers are never blocked
                # by a publish and the read snapshot is never upgraded to a write.
                async with session.begin():
                    rows = (await session.execute(self._pending())).all()
                published = await self._publish(rows)
                if rows:
                    async with session.begin():
                        await session.execute(self._settle(self._outbox.c.id.in_([row[0] for row in rows])))
        OUTBOX_PUBLISHED.labels(service=self.service).inc(published)
        return published

    def _next_ids(self) -> Select[int]:
        """The oldest unpublished rows holding the next ``batch_size`` events: at least one row,
        never a unit of work split (so a batch may hold more)."""
        outbox = self._outbox
        before = func.sum(outbox.c.events).over(order_by=outbox.c.id) - outbox.c.events
        oldest = (
            select(outbox.c.id, before.label("before"))
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self._batch_size)
            .subquery()
        )
        return select(oldest.c.id).where(oldest.c.before < self._batch_size)

    def _pending(self) -> Select[int, str, str, str]:
        outbox = self._outbox
        columns = (outbox.c.id, outbox.c.topic, outbox.c.event_keys, outbox.c.payload)
        return select(*columns).where(outbox.c.id.in_(self._next_ids())).order_by(outbox.c.id)

    def _settle(self, published: ColumnElement[bool]) -> Delete | Update:
        """Published rows are deleted, or, with a retention, marked and kept that long."""
        if self._retention:
            return update(self._outbox).where(published).values(published_at=self._clock.now())
        return delete(self._outbox).where(published)

    async def _claim(self, session: AsyncSession) -> list[Row[int, str, str, str]]:
        """The next batch, settled in one statement; the caller's transaction undoes it if the publish fails."""
        outbox = self._outbox
        batch = (
            select(outbox.c.id)
            .where(outbox.c.id.in_(self._next_ids()))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claim = self._settle(outbox.c.id.in_(batch)).returning(
            outbox.c.id, outbox.c.topic, outbox.c.event_keys, outbox.c.payload
        )
        return sorted((await session.execute(claim)).all(), key=itemgetter(0))

    async def _publish(self, rows: Sequence[Row[int, str, str, str]]) -> int:
        messages = [
            Message(topic, key, envelope) for _, topic, keys, payload in rows for key, envelope in unpack(keys, payload)
        ]
        if messages:
            await self._bus.publish(messages)
        return len(messages)

    async def purge(self) -> int:
        """Delete published events kept longer than the retention; returns how many outbox rows (units of work)."""
        now = self._clock.now()
        self._next_purge = now + PURGE_EVERY
        outbox = self._outbox
        async with self._db.session() as session, session.begin():
            result = await session.execute(
                delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < now - self._retention)
            )
        return rowcount(result)

    async def backlog(self) -> int:
        """Events committed but not yet published."""
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.sum(self._outbox.c.events)).where(self._outbox.c.published_at.is_(None))
            )
        return int(count or 0)
