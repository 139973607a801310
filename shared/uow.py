"""The unit of work: domain rows and their events commit together (transactional outbox)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock
from shared.db import insert_rows
from shared.events import CloudEvent, DomainEvent
from shared.kernel_tables import KernelTables


class UnitOfWork:
    """One transaction of one service.

    Domain code adds rows to ``session`` and calls :meth:`emit`; only the caller (a request or
    a consumer) calls :meth:`commit`. Leaving the block without committing rolls back, and the
    events emitted inside are never published.
    """

    def __init__(
        self,
        session: AsyncSession,
        tables: KernelTables,
        *,
        source: str,
        topic: str,
        clock: Clock,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.session = session
        self.clock = clock
        self._tables = tables
        self._source = source
        self._topic = topic
        self._on_commit = on_commit
        self._pending: list[dict[str, Any]] = []  # outbox rows

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending.clear()
        await self.session.close()  # rolls back whatever was not committed

    def emit(self, event: DomainEvent) -> str:
        """Record an event to publish if, and only if, this unit of work commits; returns its id."""
        now = self.clock.now()
        event_id, envelope = CloudEvent.encode(source=self._source, time=now, event=event)
        self._pending.append(
            {"event_id": event_id, "topic": self._topic, "key": event.subject(), "type": event.type, "payload": envelope, "created_at": now}
        )
        return event_id

    async def commit(self) -> None:
        if self._pending:
            await insert_rows(self.session, self._tables.outbox, self._pending)
        await self.session.commit()
        had_events = bool(self._pending)
        self._pending.clear()
        if had_events:
            self._on_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
        self._pending.clear()
