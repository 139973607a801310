"""The procedure catalogue and the working-time calendar's administrator overrides."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers.events import CalendarChanged
from services.dossiers.models import CalendarDay, Procedure, calendars
from services.dossiers.office_hours import follow_day
from services.dossiers.schemas import (
    CalendarDayIn,
    CalendarDayOut,
    CalendarYear,
    ProcedureIn,
)
from shared.audit import changed
from shared.db import get_or_404
from shared.uow import UnitOfWork


async def upsert_procedure(uow: UnitOfWork, ma_tthc: str, data: ProcedureIn) -> Procedure:
    values = data.model_dump(mode="json")
    procedure = await uow.session.get(Procedure, ma_tthc)
    old = {} if procedure is None else {k: getattr(procedure, k) for k in values}
    if procedure is None:
        procedure = Procedure(ma_tthc=ma_tthc, version=1, updated_at=uow.clock.now(), **values)
        uow.session.add(procedure)
    elif old != values:
        for key, value in values.items():
            setattr(procedure, key, value)
        procedure.version += 1
        procedure.updated_at = uow.clock.now()
    if old != values:
        uow.audit("procedure.set", "procedure", ma_tthc, changed(old, values))
    await uow.session.flush()
    return procedure


async def get_procedure(session: AsyncSession, ma_tthc: str) -> Procedure:
    unknown = [{"field": "ma_tthc", "message": "unknown procedure"}]
    return await get_or_404(session, Procedure, ma_tthc, f"No procedure with code {ma_tthc!r}.", errors=unknown)


async def list_procedures(
    session: AsyncSession, *, after: str | None = None, limit: int | None = None
) -> Sequence[Procedure]:
    """Procedures by MaTTHC; ``after`` a MaTTHC, at most ``limit``."""
    query = select(Procedure).order_by(Procedure.ma_tthc).limit(limit)
    if after is not None:
        query = query.where(Procedure.ma_tthc > after)
    return (await session.scalars(query)).all()


async def set_calendar_day(uow: UnitOfWork, day: date, data: CalendarDayIn) -> CalendarDay:
    """Declare a day worked or not; every service follows through ``calendar.changed``, and the open
    dossiers received here whose count runs over that day are re-dated."""
    override = await uow.session.get(CalendarDay, day)
    if override is not None and (override.working, override.reason) == (data.working, data.reason):
        return override
    old = {} if override is None else {"working": override.working, "reason": override.reason}
    if override is None:
        override = CalendarDay(day=day, working=data.working, reason=data.reason, updated_at=uow.clock.now())
        uow.session.add(override)
    else:
        override.working, override.reason, override.updated_at = data.working, data.reason, uow.clock.now()
    await uow.session.flush()
    uow.audit("calendar.day_set", "calendar_day", day.isoformat(), changed(old, data.model_dump()))
    uow.emit(CalendarChanged(date=day, working=data.working, reason=data.reason))
    await follow_day(uow, day)
    return override


async def remove_calendar_day(uow: UnitOfWork, day: date) -> None:
    override = await get_or_404(uow.session, CalendarDay, day, f"No override for {day.isoformat()}.")
    await uow.session.delete(override)
    await uow.session.flush()
    uow.audit("calendar.day_removed", "calendar_day", day.isoformat(), {"working": [override.working, None]})
    uow.emit(CalendarChanged(date=day, working=override.working, reason=override.reason, removed=True))
    await follow_day(uow, day)


async def calendar_year(session: AsyncSession, year: int) -> CalendarYear:
    days = await calendars.working_calendar(session)
    overrides = (
        await session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    ).all()
    reasons = {o.day: o.reason for o in overrides}

    def out(day: date, working: bool) -> CalendarDayOut:
        holiday = days.holiday_name(day)
        return CalendarDayOut(
            date=day,
            working=working,
            reason=reasons.get(day) or holiday or ("Ngày làm việc bù" if working else "Ngày nghỉ"),
            holiday=holiday,
        )

    return CalendarYear(
        year=year,
        non_working_weekdays=[out(day, False) for day, _ in days.non_working_weekdays(year)],
        working_weekend_days=[out(day, True) for day in days.working_weekend_days(year)],
        overrides=[
            CalendarDayOut(
                date=o.day,
                working=o.working,
                reason=o.reason,
                holiday=days.holiday_name(o.day),
                updated_at=o.updated_at,
            )
            for o in overrides
        ],
    )
