"""The unit of work: domain rows and their events commit together (transactional outbox)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import audit_row
from shared.auth import Principal
from shared.clock import Clock
from shared.events import CloudEvent, DomainEvent
from shared.kernel_tables import KernelTables
from shared.outbox import pack

session_slots: ContextVar[asyncio.Semaphore | None] = ContextVar("session_slots", default=None)
"""Set for a request that may hold only so many sessions at once (a GraphQL request: its resolvers
run concurrently); a unit of work opened within it waits for a slot. None: unbounded."""


class UnitOfWork:
    """One transaction of one service.

    Domain code adds rows to ``session`` and calls :meth:`emit` (and :meth:`audit`); only the
    caller (a request or a consumer) calls :meth:`commit`. Leaving the block without committing
    rolls back, and the events emitted and changes audited inside are never published nor logged.
    ``principal`` is who the work is done for (a request's caller; None: the system).
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
        principal: Principal | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.clock = clock
        self._tables = tables
        self._source = source
        self._topic = topic
        self._on_commit = on_commit
        self._pending: list[tuple[str, str]] = []  # (key, envelope) of each event emitted
        self._audited: list[dict[str, Any]] = []  # audit_log rows of the changes made
        self._deadlines_moved = False
        self._before_commit: list[Callable[[], Awaitable[None]]] = []
        self._after_commit: list[Callable[[], None]] = []
        self.gathered: dict[str, Any] = {}  # what handlers gather over a batch, written by a before-commit hook
        self._slot: asyncio.Semaphore | None = None

    async def __aenter__(self) -> UnitOfWork:
        self._slot = session_slots.get()
        if self._slot is not None:
            await self._slot.acquire()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._forget()
        try:
            await self.session.close()  # rolls back whatever was not committed
        finally:
            if self._slot is not None:
                self._slot.release()
                self._slot = None

    def emit(self, event: DomainEvent) -> str:
        """Record an event to publish if, and only if, this unit of work commits; returns its id."""
        event_id, envelope = CloudEvent.encode(source=self._source, time=self.clock.now(), event=event)
        self._pending.append((event.subject(), envelope))
        return event_id

    def audit(
        self, action: str, object_type: str, object_id: str | int, changes: Mapping[str, Any] | None = None
    ) -> None:
        """Record in the audit log that ``action`` (``dossier.transition``...) was done to the object,
        if, and only if, this unit of work commits; ``changes`` is a small JSON of what changed
        (``shared.audit.changed``), never personal data. See ``shared.audit``."""
        self._audited.append(audit_row(self.principal, action, object_type, object_id, changes, self.clock.now()))

    def deadlines_moved(self) -> None:
        """Say that this unit of work brought a deadline closer without emitting an event (events
        alone already do), so the service's deadline schedulers look again once it commits."""
        self._deadlines_moved = True

    def before_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run ``hook`` inside the transaction just before it commits (once): a consumer handler
        gathers a batch's changes in :attr:`gathered` and writes them all in one go."""
        self._before_commit.append(hook)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this unit of work has committed (not if it rolls back); a
        callback given several times (a change per row) is called once."""
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    def _forget(self) -> None:
        self._pending.clear()
        self._after_commit.clear()
        self._audited.clear()
        self._deadlines_moved = False
        self._before_commit.clear()
        self.gathered.clear()

    async def commit(self) -> None:
        """Commit the domain rows and, in the same transaction, one outbox row holding every event
        emitted and the audit rows of the changes made."""
        while self._before_commit:
            await self._before_commit.pop(0)()
        if self._audited:
            await self.session.execute(insert(self._tables.audit_log), self._audited)
        if self._pending:
            row = pack(self._topic, self._pending, created_at=self.clock.now())
            await self.session.execute(insert(self._tables.outbox).values(row))
        await self.session.commit()
        wake, committed = bool(self._pending) or self._deadlines_moved, list(self._after_commit)
        self._forget()
        for callback in committed:
            callback()
        if wake:
            self._on_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
        self._forget()
