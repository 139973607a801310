"""The working-time calendar of every unit, kept by every service that counts working time.

``dossiers`` owns the calendar: administrators declare days worked or off and set a unit's office
hours there, and it publishes each change as ``calendar.changed``. Every other service keeps a copy
of the same two tables (``calendar_days``, ``unit_office_hours``) fed by that event, so a working
calendar is always built from the administrators' overrides, never from the holiday calendar alone.

A unit works its own office hours, else its nearest ancestor's (along the units directory's tree),
else the default 07:00–11:30 / 13:30–17:00.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

from pydantic import BaseModel
from sqlalchemy import JSON, Boolean, Column, Date, MetaData, String, Table, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import OfficeHours, WorkingCalendar
from shared.consumer import Handler
from shared.db import UTCDateTime, upsert
from shared.events import CloudEvent
from shared.units import UnitDirectory, UnitSnapshot
from shared.uow import UnitOfWork

CALENDAR_CHANGED = "vn.cchc.calendar.changed.v1"


class _OfficeHoursIn(BaseModel):
    windows: list[str]
    same_day_cutoff: str
    set_on: str | None = None


class CalendarChangedIn(BaseModel):
    """What a follower reads of ``calendar.changed``: a day override, or a unit's office hours."""

    date: date
    working: bool
    reason: str
    removed: bool = False
    unit: str | None = None
    office_hours: _OfficeHoursIn | None = None


@dataclass
class UnitCalendars:
    """The working-time calendar of every unit, each resolved once per use."""

    default: WorkingCalendar
    own: Mapping[str, OfficeHours]  # the units with hours of their own
    units: UnitSnapshot
    _resolved: dict[str | None, WorkingCalendar] = field(default_factory=dict, repr=False)

    def hours_set_on(self, unit: str | None) -> str | None:
        """The unit whose office hours ``unit`` works: itself, its nearest ancestor with hours of
        its own, or None (the default hours)."""
        if unit is None or not self.own:
            return None
        return next((code for code in self.units.lineage(unit) if code in self.own), None)

    def of(self, unit: str | None) -> WorkingCalendar:
        calendar = self._resolved.get(unit)
        if calendar is None:
            source = self.hours_set_on(unit)
            calendar = self.default if source is None else replace(self.default, hours=self.own[source])
            self._resolved[unit] = calendar
        return calendar

    def with_hours(self, unit: str, hours: OfficeHours | None) -> UnitCalendars:
        """These calendars once ``unit``'s own hours are ``hours`` (None: withdrawn)."""
        own = {code: h for code, h in self.own.items() if code != unit}
        if hours is not None:
            own[unit] = hours
        return UnitCalendars(self.default, own, self.units)


@lru_cache(maxsize=1024)
def office_hours(windows: tuple[str, ...], same_day_cutoff: str) -> OfficeHours:
    return OfficeHours.from_text(windows, same_day_cutoff)


class CalendarStore:
    """The two calendar tables of one service's database, their reader and (for followers) the
    ``calendar.changed`` handler. ``directory`` gives the tree office hours are inherited along;
    without one, a unit works only hours set on itself."""

    def __init__(self, metadata: MetaData, directory: UnitDirectory | None = None) -> None:
        self.directory = directory
        self.days = Table(
            "calendar_days",
            metadata,
            Column("day", Date, primary_key=True),
            Column("working", Boolean, nullable=False),
            Column("reason", Text, nullable=False),
            Column("updated_at", UTCDateTime, nullable=False),
        )
        self.hours = Table(
            "unit_office_hours",
            metadata,
            Column("unit_code", String(64), primary_key=True),
            Column("windows", JSON, nullable=False),
            Column("same_day_cutoff", String(5), nullable=False),
            Column("updated_at", UTCDateTime, nullable=False),
        )

    async def working_calendar(self, session: AsyncSession) -> WorkingCalendar:
        """The holiday calendar with the administrators' day overrides (a small table, read per use)."""
        overrides = (await session.execute(select(self.days.c.day, self.days.c.working))).all()
        return WorkingCalendar(overrides={day: working for day, working in overrides})

    async def load(self, session: AsyncSession) -> UnitCalendars:
        """Day overrides, the units' own hours and the tree: small queries, whatever they then serve."""
        H = self.hours.c
        rows = (await session.execute(select(H.unit_code, H.windows, H.same_day_cutoff))).all()
        own = {code: office_hours(tuple(windows), cutoff) for code, windows, cutoff in rows}
        units = await self.directory.snapshot(session) if self.directory is not None else UnitSnapshot({})
        return UnitCalendars(await self.working_calendar(session), own, units)

    def handlers(self) -> dict[str, Handler]:
        """``calendar.changed`` for a follower (the handler table entry for ``cchc.dossiers``).

        A change older than the row it would replace (by event time) is ignored, so a late
        redelivery never undoes a newer declaration."""

        async def calendar_changed(uow: UnitOfWork, event: CloudEvent) -> None:
            change = event.data_as(CalendarChangedIn)
            if change.unit is None:
                await self._follow_day(uow, change, event)
            else:
                await self._follow_hours(uow, change, event)

        return {CALENDAR_CHANGED: calendar_changed}

    async def _follow_day(self, uow: UnitOfWork, change: CalendarChangedIn, event: CloudEvent) -> None:
        table = self.days
        if change.removed:
            await uow.session.execute(delete(table).where(table.c.day == change.date, table.c.updated_at <= event.time))
            return
        values = {"day": change.date, "working": change.working, "reason": change.reason, "updated_at": event.time}
        statement = upsert(uow.session, table).values(**values)
        await uow.session.execute(
            statement.on_conflict_do_update(
                index_elements=["day"],
                set_={c: statement.excluded[c] for c in ("working", "reason", "updated_at")},
                where=table.c.updated_at <= statement.excluded.updated_at,
            )
        )

    async def _follow_hours(self, uow: UnitOfWork, change: CalendarChangedIn, event: CloudEvent) -> None:
        table, unit, hours = self.hours, change.unit, change.office_hours
        if hours is None or hours.set_on != unit:  # the unit's own hours were withdrawn
            await uow.session.execute(delete(table).where(table.c.unit_code == unit, table.c.updated_at <= event.time))
            return
        values = {
            "unit_code": unit,
            "windows": hours.windows,
            "same_day_cutoff": hours.same_day_cutoff,
            "updated_at": event.time,
        }
        statement = upsert(uow.session, table).values(**values)
        await uow.session.execute(
            statement.on_conflict_do_update(
                index_elements=["unit_code"],
                set_={c: statement.excluded[c] for c in ("windows", "same_day_cutoff", "updated_at")},
                where=table.c.updated_at <= statement.excluded.updated_at,
            )
        )
