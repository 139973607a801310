"""The recipient directory: the units letters and reminders are addressed to (no HTTP, no commits)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import directory
from shared.problems import NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.units import UnitRecord


async def get_recipient(session: AsyncSession, unit_code: str, scope: Scope = WHOLE_SYSTEM) -> UnitRecord:
    """The unit, if it lies in ``scope`` (else it is absent)."""
    unit = await directory.get(session, unit_code) if scope.allows(unit_code) else None
    if unit is None:
        message = f"No recipient for unit {unit_code!r}."
        raise NotFound(message, errors=[{"field": "unit_code", "message": message}])
    return unit


async def list_recipients(
    session: AsyncSession, *, after: str | None = None, limit: int = 100, scope: Scope = WHOLE_SYSTEM
) -> list[UnitRecord]:
    return await directory.page(session, after=after, limit=limit, where=scope.where(directory.units.c.code))
