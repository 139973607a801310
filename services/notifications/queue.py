"""What the delivery and webhook workers share: a persisted retry queue.

A queued row carries ``status`` and ``next_attempt_at``; a worker claims the due rows with one
conditional ``UPDATE`` that also pushes ``next_attempt_at`` a lease ahead, so two workers (or
replicas) never send one row at the same time, and a row whose worker died is claimed again once
its lease ran out (at-least-once). Workers sleep until the next ``next_attempt_at``
(:class:`~shared.deadline_scheduler.DeadlineScheduler`) and are woken when a transaction that
queued something commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime
from shared.deadline_scheduler import DeadlineScheduler

WAITING = ("queued", "retrying")
SENDING = "sending"
LEASE = timedelta(minutes=5)

# The workers of this process, per database engine and queue name, so a commit can wake them.
_WORKERS: dict[tuple[Engine, str], DeadlineScheduler] = {}


class Queued:
    """Columns of a row a worker sends: ``queued``/``retrying`` wait for ``next_attempt_at``."""

    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


async def next_due(session: AsyncSession, model: Any, *where: Any) -> datetime | None:
    """The earliest instant a row of ``model`` is due (a waiting row, or a lease running out)."""
    return await session.scalar(
        select(func.min(model.next_attempt_at)).where(
            model.status.in_([*WAITING, SENDING]), model.next_attempt_at.is_not(None), *where
        )
    )


async def claim_due(session: AsyncSession, model: Any, now: datetime, batch: int, *where: Any) -> Sequence[Any]:
    """Claim up to ``batch`` due rows (status ``sending``, a lease ahead); their ids, oldest first."""
    due = (
        select(model.id)
        .where(model.status.in_([*WAITING, SENDING]), model.next_attempt_at <= now, *where)
        .order_by(model.next_attempt_at, model.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.execute(
        update(model)
        .where(model.id.in_(due), model.next_attempt_at <= now)  # nobody claimed it meanwhile
        .values(status=SENDING, next_attempt_at=now + LEASE, attempts=model.attempts + 1)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def register_worker(engine: Engine, queue: str, scheduler: DeadlineScheduler) -> None:
    _WORKERS[(engine, queue)] = scheduler


def unregister_worker(engine: Engine, queue: str) -> None:
    _WORKERS.pop((engine, queue), None)


def wake_after_commit(session: AsyncSession, queue: str) -> None:
    """Wake this process's ``queue`` worker of the session's database once the transaction commits."""
    engine = session.get_bind()
    scheduler = _WORKERS.get((engine, queue))
    if scheduler is None:
        return
    event.listen(session.sync_session, "after_commit", lambda _: scheduler.poke(), once=True)
