"""The working calendar a unit's new return dates count with: the statutory one, the days
administrators declared worked or off, and the unit's office hours (all followed from
``calendar.changed`` by the service's calendar store)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import calendars
from shared.calendar import WorkingCalendar
from shared.unit_calendars import UnitCalendars

_CACHE_KEY = "letters.calendars"  # one read per transaction (a consumer batch writes many letters)


async def working_calendar(session: AsyncSession, unit_code: str) -> WorkingCalendar:
    cached = session.info.get(_CACHE_KEY)
    if cached is None:
        cached = session.info[_CACHE_KEY] = await calendars.load(session)
    assert isinstance(cached, UnitCalendars)
    return cached.of(unit_code)
