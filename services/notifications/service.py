"""Domain logic of the notifications service (no HTTP, no commits)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import Recipient
from services.notifications.schemas import UnitUpsertedIn
from shared.db import get_or_404
from shared.uow import UnitOfWork


async def record_unit(uow: UnitOfWork, unit: UnitUpsertedIn) -> None:
    """Keep the recipient directory in step with the units registry; an older version never wins."""
    recipient = await uow.session.get(Recipient, unit.code)
    if recipient is None:
        uow.session.add(
            Recipient(
                unit_code=unit.code,
                name=unit.name,
                level=unit.level,
                parent_code=unit.parent_code,
                source_version=unit.version,
                updated_at=uow.clock.now(),
            )
        )
    elif unit.version > recipient.source_version:
        recipient.name = unit.name
        recipient.level = unit.level
        recipient.parent_code = unit.parent_code
        recipient.source_version = unit.version
        recipient.updated_at = uow.clock.now()


async def get_recipient(session: AsyncSession, unit_code: str) -> Recipient:
    return await get_or_404(session, Recipient, unit_code, f"No recipient for unit {unit_code!r}.")


async def list_recipients(session: AsyncSession) -> Sequence[Recipient]:
    return (await session.scalars(select(Recipient).order_by(Recipient.unit_code))).all()
