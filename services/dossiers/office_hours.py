"""Office hours per unit: set by administrators, inherited by sub-units, applied to working time.

The day overrides hold for every unit; the office hours are a unit's own, else its nearest
ancestor's (units come from the ``unit.upserted`` replica), else the default 07:00–11:30 /
13:30–17:00. A change publishes ``calendar.changed`` and re-dates the open dossiers received here
whose unit follows it; dossiers synced from the province keep the NgayHenTra their system set, and
only what this service derives from it (the apology deadline, the alarms) follows the new hours.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers import auditing, store
from services.dossiers.codes import Origin, Status
from services.dossiers.dossier import CALENDAR_DAY, OFFICE_HOURS, Dossier
from services.dossiers.events import CalendarChanged, OfficeHoursRef
from services.dossiers.models import Procedure, UnitOfficeHours, calendars
from services.dossiers.schemas import LegalTime, OfficeHoursIn, OfficeHoursOut
from shared.audit import changed
from shared.calendar import DurationUnit
from shared.clock import VN_TZ
from shared.db import on_postgres
from shared.problems import NotFound
from shared.unit_calendars import UnitCalendars
from shared.uow import UnitOfWork

OPEN_STATUSES = [int(s) for s in Status if not s.is_finished]


async def load_calendars(session: AsyncSession) -> UnitCalendars:
    """The day overrides, the units' own hours and the tree: small queries, whatever the number of
    dossiers they then serve."""
    return await calendars.load(session)


async def office_hours_of(session: AsyncSession, unit: str) -> OfficeHoursOut:
    calendars = await load_calendars(session)
    source = calendars.hours_set_on(unit)
    stored = None if source is None else await session.get(UnitOfficeHours, source)
    return _out(unit, calendars, None if stored is None else stored.updated_at)


async def set_office_hours(uow: UnitOfWork, unit: str, data: OfficeHoursIn) -> OfficeHoursOut:
    """Give ``unit`` (and its sub-units without their own) these hours; the same again changes nothing."""
    session, now = uow.session, uow.clock.now()
    before = await load_calendars(session)
    stored = await session.get(UnitOfficeHours, unit)
    new = {"windows": data.windows, "same_day_cutoff": data.same_day_cutoff}
    if stored is None:
        old = {}
        stored = UnitOfficeHours(unit_code=unit, updated_at=now, **new)
        session.add(stored)
    elif (old := {"windows": stored.windows, "same_day_cutoff": stored.same_day_cutoff}) == new:
        return _out(unit, before, stored.updated_at)
    else:
        stored.windows, stored.same_day_cutoff, stored.updated_at = data.windows, data.same_day_cutoff, now
    await session.flush()
    uow.audit("office_hours.set", "unit", unit, changed(old, new))
    after = before.with_hours(unit, data.to_hours())
    await _follow(uow, unit, before, after, f"Đặt giờ làm việc riêng của đơn vị {unit}")
    return _out(unit, after, now)


async def remove_office_hours(uow: UnitOfWork, unit: str) -> None:
    """Withdraw ``unit``'s own hours: it works its nearest ancestor's again, or the default ones."""
    before = await load_calendars(uow.session)
    stored = await uow.session.get(UnitOfficeHours, unit)
    if stored is None:
        message = f"Đơn vị {unit} không có giờ làm việc riêng."
        raise NotFound(message, errors=[{"field": "unit", "message": message}])
    await uow.session.delete(stored)
    uow.audit("office_hours.removed", "unit", unit, {"windows": [stored.windows, None]})
    await _follow(uow, unit, before, before.with_hours(unit, None), f"Bỏ giờ làm việc riêng của đơn vị {unit}")


async def _follow(uow: UnitOfWork, unit: str, before: UnitCalendars, after: UnitCalendars, reason: str) -> None:
    """Publish the change, and re-date the open dossiers received here whose hours it changed."""
    session, now = uow.session, uow.clock.now()
    today = now.astimezone(VN_TZ).date()
    uow.emit(
        CalendarChanged(
            date=today,
            working=after.default.is_working_day(today),
            reason=reason,
            unit=unit,
            office_hours=_ref(unit, after),
        )
    )
    subtree = before.units.descendants(unit)
    moved = store.DOSSIERS.c.unit_code.in_(
        [code for code in subtree if unit in (before.hours_set_on(code), after.hours_set_on(code))]
    )
    await _redate(uow, await _open(session, Origin.intake, moved), after, OFFICE_HOURS)
    await _resettle(uow, await _open(session, Origin.sync, moved), after)


async def follow_day(uow: UnitOfWork, day: date) -> None:
    """Re-date the open dossiers received here whose count runs over ``day``, which was just
    declared worked or not (or given back to the holiday calendar); the synced ones keep their
    due time and derive their apology deadline and alarms again."""
    D = store.DOSSIERS
    start = datetime.combine(day, time.min, VN_TZ)
    spanning = (D.c.received_at < start + timedelta(days=1), D.c.due_at >= start)
    calendars = await load_calendars(uow.session)
    await _redate(uow, await _open(uow.session, Origin.intake, *spanning), calendars, CALENDAR_DAY)
    await _resettle(uow, await _open(uow.session, Origin.sync, *spanning), calendars)


async def _redate(uow: UnitOfWork, dossiers: list[Dossier], calendars: UnitCalendars, reason: str) -> None:
    session, now = uow.session, uow.clock.now()
    catalogue = await _catalogue_times(session, {d.ma_tthc for d in dossiers if d.legal_time is None})
    changed = []
    for dossier in dossiers:
        legal_time = dossier.legal_time or catalogue[dossier.ma_tthc]
        if dossier.redate(legal_time, now, calendars.of(dossier.unit_code), reason):
            changed.append(dossier)
            events = dossier.collect_events()
            for event in events:
                uow.emit(event)
            auditing.audit_due_changes(uow, events)
    await store.save(session, changed)


async def _resettle(uow: UnitOfWork, dossiers: list[Dossier], calendars: UnitCalendars) -> None:
    """Derive again, in the changed calendar, the apology deadline and alarms of open dossiers
    whose due time stays; the late-detection scheduler then looks again."""
    now = uow.clock.now()
    changed = [d for d in dossiers if d.resettle(now, calendars.of(d.unit_code))]
    if changed:
        uow.deadlines_moved()
        await store.save(uow.session, changed)


async def _open(session: AsyncSession, origin: Origin, *conditions: ColumnElement[bool]) -> list[Dossier]:
    """The unfinished dossiers of ``origin`` (received here, or synced) that meet ``conditions``,
    locked on PostgreSQL."""
    D = store.DOSSIERS
    query = select(D).where(D.c.origin == origin.value, D.c.status.in_(OPEN_STATUSES), *conditions)
    if on_postgres(session):
        query = query.with_for_update()
    return [Dossier.from_row(m) for m in (await session.execute(query)).mappings()]


async def _catalogue_times(session: AsyncSession, codes: set[str]) -> dict[str, LegalTime]:
    """The catalogue's legal times, for dossiers received before their own was recorded with them."""
    if not codes:
        return {}
    procedures = await session.scalars(select(Procedure).where(Procedure.ma_tthc.in_(codes)))
    return {
        p.ma_tthc: LegalTime(amount=p.amount, unit=DurationUnit(p.unit), same_day=p.same_day_cutoff) for p in procedures
    }


def _ref(unit: str, calendars: UnitCalendars) -> OfficeHoursRef:
    hours = calendars.of(unit).hours
    return OfficeHoursRef(
        windows=hours.window_texts(),
        same_day_cutoff=f"{hours.same_day_cutoff:%H:%M}",
        set_on=calendars.hours_set_on(unit),
    )


def _out(unit: str, calendars: UnitCalendars, updated_at: datetime | None) -> OfficeHoursOut:
    hours_per_day = calendars.of(unit).hours.day_length.total_seconds() / 3600
    return OfficeHoursOut(
        unit=unit, hours_per_day=hours_per_day, updated_at=updated_at, **_ref(unit, calendars).model_dump()
    )
