"""The working calendar the letters count new return dates with: the statutory one plus the
administrators' day overrides, replicated from ``calendar.changed``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.letters.models import LetterCalendarDay
from shared.calendar import WorkingCalendar
from shared.db import upsert

DAYS = LetterCalendarDay.__table__
_CACHE_KEY = "letters.calendar"  # one read per transaction (a consumer batch writes many letters)


async def record_day(session: AsyncSession, day: date, working: bool, removed: bool, now: datetime) -> None:
    """Follow an override of the dossiers service's calendar (or its withdrawal)."""
    if removed:
        await session.execute(delete(DAYS).where(DAYS.c.day == day))
    else:
        statement = upsert(session, DAYS).values(day=day, working=working, updated_at=now)
        await session.execute(statement.on_conflict_do_update(index_elements=["day"], set_={"working": working, "updated_at": now}))
    session.info.pop(_CACHE_KEY, None)


async def working_calendar(session: AsyncSession) -> WorkingCalendar:
    cached = session.info.get(_CACHE_KEY)
    if cached is None:
        rows = (await session.execute(select(DAYS.c.day, DAYS.c.working))).all()
        cached = session.info[_CACHE_KEY] = WorkingCalendar(overrides={day: working for day, working in rows})
    assert isinstance(cached, WorkingCalendar)
    return cached
