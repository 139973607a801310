"""Domain logic of the plans service (no HTTP, no commits)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.events import UnitUpserted
from services.plans.models import Unit
from services.plans.schemas import UnitIn, UnitLevel
from shared.problems import DomainError, NotFound
from shared.uow import UnitOfWork


async def get_unit(session: AsyncSession, code: str) -> Unit:
    unit = await session.get(Unit, code)
    if unit is None:
        raise NotFound(f"No unit with code {code!r}.")
    return unit


async def list_units(session: AsyncSession, *, level: UnitLevel | None = None, parent_code: str | None = None) -> Sequence[Unit]:
    query = select(Unit).order_by(Unit.code)
    if level is not None:
        query = query.where(Unit.level == level)
    if parent_code is not None:
        query = query.where(Unit.parent_code == parent_code)
    return (await session.scalars(query)).all()


async def upsert_unit(uow: UnitOfWork, code: str, data: UnitIn) -> Unit:
    """Create or replace a unit and announce it with ``unit.upserted``."""
    session = uow.session
    if data.parent_code is not None:
        if data.parent_code == code:
            raise DomainError("A unit cannot be its own parent.", errors=[{"field": "parent_code", "message": "equals the unit's own code"}])
        if await session.get(Unit, data.parent_code) is None:
            raise DomainError(
                f"Parent unit {data.parent_code!r} is not registered.",
                errors=[{"field": "parent_code", "message": "unknown unit code"}],
            )
    unit = await session.get(Unit, code)
    values = data.model_dump()
    if unit is None:
        unit = Unit(code=code, version=1, updated_at=uow.clock.now(), **values)
        session.add(unit)
    else:
        if all(getattr(unit, k) == v for k, v in values.items()):
            return unit
        for key, value in values.items():
            setattr(unit, key, value)
        unit.version += 1
        unit.updated_at = uow.clock.now()
    await session.flush()
    uow.emit(UnitUpserted(code=code, version=unit.version, **values))
    return unit
