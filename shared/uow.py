"""The unit of work: domain rows and their events commit together (transactional outbox)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock
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
        self._pending: list[CloudEvent] = []

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending.clear()
        await self.session.close()  # rolls back whatever was not committed

    def emit(self, event: DomainEvent) -> CloudEvent:
        """Record an event to publish if, and only if, this unit of work commits."""
        envelope = CloudEvent(
            source=self._source,
            type=event.type,
            time=self.clock.now(),
            subject=event.subject(),
            data=event.payload(),
        )
        self._pending.append(envelope)
        return envelope

    async def commit(self) -> None:
        if self._pending:
            now = self.clock.now()
            await self.session.execute(
                insert(self._tables.outbox),
                [
                    {
                        "event_id": e.id,
                        "topic": self._topic,
                        "key": e.subject,
                        "type": e.type,
                        "payload": e.to_json(),
                        "created_at": now,
                    }
                    for e in self._pending
                ],
            )
        await self.session.commit()
        had_events = bool(self._pending)
        self._pending.clear()
        if had_events:
            self._on_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
        self._pending.clear()
