"""Forgetting processed events: the ``processed_events`` rows a consumer claims (its idempotency
record, see ``shared/consumer.py``) are kept for ``processed_events_retention_hours``, then deleted,
so the table holds a window of recent event ids instead of every event ever consumed.

The window must be longer than any redelivery can be late: Kafka's topic retention and a replay of
dead letters (docs/operations.md). Rows go in chunks of :data:`CHUNK`, each its own short
transaction, so a first purge of a large table never holds SQLite's write lock for long.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import Table, delete, select, tuple_

from shared.clock import Clock
from shared.db import Database, rowcount

log = logging.getLogger(__name__)
CHUNK = 10_000
EVERY = 600.0  # seconds between purges


class ProcessedEventsPurge:
    def __init__(self, service: str, db: Database, table: Table, clock: Clock, retention: timedelta) -> None:
        self.service = service
        self._db = db
        self._table = table
        self._clock = clock
        self._retention = retention

    async def purge(self) -> int:
        """Delete the rows older than the retention; how many."""
        t = self._table
        cutoff = self._clock.now() - self._retention
        oldest = select(t.c.consumer, t.c.event_id).where(t.c.processed_at < cutoff).limit(CHUNK)
        statement = delete(t).where(tuple_(t.c.consumer, t.c.event_id).in_(oldest))
        total = 0
        while True:
            async with self._db.session() as session, session.begin():
                deleted = rowcount(await session.execute(statement))
            total += deleted
            if deleted < CHUNK:
                return total

    async def run(self, every: float = EVERY) -> None:
        while True:
            try:
                if deleted := await self.purge():
                    log.info("%s forgot %d processed events older than its retention", self.service, deleted)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("purge of %s's processed events failed; trying again later", self.service)
            await asyncio.sleep(every)
