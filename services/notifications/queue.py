"""What the deliveries and webhooks schedulers share: a persisted retry queue.

A queued row carries ``status`` and ``next_attempt_at``; a sender claims the due rows with one
conditional ``UPDATE`` that also pushes ``next_attempt_at`` a lease ahead, so two senders (or
replicas) never send one row at the same time, and a row whose sender died is claimed again once
its lease ran out (at-least-once). The senders are the service's deadline schedulers
(:class:`~shared.service.Deadlines`): they sleep until the next ``next_attempt_at`` and are woken
when a unit of work that queued something commits (``uow.deadlines_moved()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime

WAITING = ("queued", "retrying")
SENDING = "sending"
LEASE = timedelta(minutes=5)


class Queued:
    """Columns of a row a sender sends: ``queued``/``retrying`` wait for ``next_attempt_at``."""

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
