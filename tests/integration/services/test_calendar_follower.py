"""A day declared off in dossiers reaches plans through ``calendar.changed`` and moves its reminders."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from sqlalchemy import select

from services.plans.models import Reminder
from shared.clock import VN_TZ
from tests.support.plans import KEEP_EVENTS, Plans, published_plan, running_plans


async def fire_dates(plans: Plans, kind: str, offset: int) -> set[date]:
    async with plans.context.uow() as uow:
        rows = await uow.session.scalars(
            select(Reminder.fire_at).where(Reminder.kind == kind, Reminder.offset_days == offset)
        )
        return {instant.astimezone(VN_TZ).date() for instant in rows}


async def eventually(check, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    assert await check()


async def test_a_day_declared_off_in_dossiers_moves_a_plans_reminder_due_that_day(make_settings):
    settings = await make_settings("plans", "dossiers", outbox_retention_hours=KEEP_EVENTS)
    async with running_plans(settings, also=["dossiers"]) as plans:
        await plans.load_demo_registry()
        await published_plan(plans, "Trước 15/03/2024")  # Friday: one working day before is Thursday 14/03
        assert await fire_dates(plans, "due_soon", 1) == {date(2024, 3, 14)}

        declared = await plans.http.put(
            "/dossiers/v1/calendar/days/2024-03-14", json={"working": False, "reason": "Nghỉ đột xuất"}
        )
        assert declared.status_code == 200, declared.text

        async def moved() -> bool:
            return await fire_dates(plans, "due_soon", 1) == {date(2024, 3, 13)}

        await eventually(moved)
        assert await fire_dates(plans, "due_soon", 5) == {date(2024, 3, 7)}  # counts back over the new day off too

        withdrawn = await plans.http.delete("/dossiers/v1/calendar/days/2024-03-14")
        assert withdrawn.status_code == 204

        async def back() -> bool:
            return await fire_dates(plans, "due_soon", 1) == {date(2024, 3, 14)}

        await eventually(back)


async def test_reminders_already_sent_are_not_planned_again_when_the_calendar_changes(make_settings):
    settings = await make_settings("plans", "dossiers", outbox_retention_hours=KEEP_EVENTS)
    async with running_plans(settings, also=["dossiers"]) as plans:
        await plans.load_demo_registry()
        await published_plan(plans, "Trước 15/03/2024")
        plans.clock.set(datetime(2024, 3, 14, 7, 5, tzinfo=VN_TZ))
        await plans.context.schedulers["reminders"].run_once()  # the 1-day reminders go on Thursday
        before = len(await plans.events("task.due_soon"))
        assert before == 3  # positive control: one per commune

        await plans.http.put("/dossiers/v1/calendar/days/2024-03-18", json={"working": False, "reason": "Nghỉ"})

        async def replanned() -> bool:  # the overdue reminder, still to come, moves past the new day off
            return await fire_dates(plans, "overdue", 1) == {date(2024, 3, 19)}

        await eventually(replanned)
        await plans.context.schedulers["reminders"].run_once()
        assert len(await plans.events("task.due_soon")) == before
