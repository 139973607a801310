"""Reminders: task.due_soon at working-day offsets and task.overdue, once per (obligation, kind, occurrence)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from services.plans.reminders import reminder_instants, replan_on_start, send_due
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ
from tests.support.plans import (
    KEEP_EVENTS,
    VAN_QUAN_COMMUNES,
    Plans,
    published_plan,
    running_plans,
)


def at(day: str, hour: int = 7) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hour), VN_TZ)


def test_offsets_count_working_days_back_and_overdue_is_the_next_working_day():
    # Tết 2024: Thursday 8 to Wednesday 14 February off. Due Monday 19/02: the working days back
    # are 16, 15, 7, 6 and 5 February.
    instants = reminder_instants(WorkingCalendar(), date(2024, 2, 19), [5, 1], 7)
    assert [(kind, offset, i.date()) for kind, offset, i in instants] == [
        ("due_soon", 5, date(2024, 2, 5)),
        ("due_soon", 1, date(2024, 2, 16)),
        ("overdue", 1, date(2024, 2, 20)),
    ]
    assert all(i.hour == 7 and i.tzinfo == VN_TZ for _, _, i in instants)


async def sent(plans: Plans) -> list[tuple[str, str, int, str]]:
    due_soon = [("due_soon", e["unit_code"], e["offset_days"], e["due"]) for e in await plans.events("task.due_soon")]
    overdue = [("overdue", e["unit_code"], e["offset_days"], e["due"]) for e in await plans.events("task.overdue")]
    return sorted(due_soon + overdue)


async def test_each_reminder_goes_once_at_its_instant_even_with_two_schedulers_racing(make_settings):
    settings = await make_settings("plans", outbox_retention_hours=KEEP_EVENTS)
    async with running_plans(settings) as plans, running_plans(settings, clock=plans.clock) as replica:
        await plans.load_demo_registry()
        await published_plan(plans)
        first, second = plans.context.schedulers["reminders"], replica.context.schedulers["reminders"]

        assert await first.run_once() == at("2024-01-08")  # nothing due on 02/01; next: 5 working days before
        assert await sent(plans) == []
        for instant, expected in (
            (at("2024-01-08"), [("due_soon", u, 5, "2024-01-15") for u in VAN_QUAN_COMMUNES]),
            (at("2024-01-12"), [("due_soon", u, 1, "2024-01-15") for u in VAN_QUAN_COMMUNES]),
            (at("2024-01-16"), [("overdue", u, 1, "2024-01-15") for u in VAN_QUAN_COMMUNES]),
        ):
            plans.clock.set(instant - timedelta(seconds=1))
            await asyncio.gather(first.run_once(), second.run_once())
            before = await sent(plans)
            plans.clock.set(instant)
            await asyncio.gather(first.run_once(), second.run_once(), first.run_once(), second.run_once())
            assert sorted(set(await sent(plans)) - set(before)) == sorted(expected)
        assert len(await sent(plans)) == 9  # nothing twice
        assert await first.run_once() is None  # nothing left to send


async def test_a_late_start_sends_only_the_most_urgent_reminder_and_done_obligations_none(plans: Plans):
    task = await published_plan(plans)
    done = task["obligations"][0]
    plans.clock.set(at("2024-01-12", 10))
    answer = await plans.http.patch(f"/plans/v1/obligations/{done['id']}", json={"version": 1, "status": "done"})
    assert answer.status_code == 200

    plans.clock.set(at("2024-03-01"))
    await plans.context.schedulers["reminders"].run_once()
    assert await sent(plans) == [("overdue", u, 1, "2024-01-15") for u in VAN_QUAN_COMMUNES[1:]]
    overdue = (await plans.http.get(f"/plans/v1/units/{VAN_QUAN_COMMUNES[1]}/overdue")).json()["items"]
    assert [(i["due"], i["overdue"], i["node_title"]) for i in overdue] == [("2024-01-15", True, "Ban hành kế hoạch")]
    assert (await plans.http.get(f"/plans/v1/units/{done['unit_code']}/overdue")).json()["items"] == []


async def test_one_reminder_per_occurrence_and_instant_when_its_rows_span_several_batches(plans: Plans):
    # Three occurrences, three reminders each (5 and 1 working days before, overdue), all due at
    # once: nine rows, swept in batches of two. Each occurrence gets its most urgent one only.
    await published_plan(plans)
    plans.clock.set(at("2024-03-01"))
    await send_due(plans.context, plans.clock.now(), batch=2)
    assert await sent(plans) == [("overdue", u, 1, "2024-01-15") for u in VAN_QUAN_COMMUNES]


async def test_reminders_due_at_different_instants_each_go_in_a_small_batch(plans: Plans):
    # The positive control of the above: swept in batches of one, each instant sends its reminder.
    await published_plan(plans)
    for day in ("2024-01-08", "2024-01-12", "2024-01-16"):
        plans.clock.set(at(day))
        await send_due(plans.context, plans.clock.now(), batch=1)
    assert await sent(plans) == sorted(
        (kind, u, offset, "2024-01-15")
        for u in VAN_QUAN_COMMUNES
        for kind, offset in (("due_soon", 5), ("due_soon", 1), ("overdue", 1))
    )


async def test_the_scheduler_wakes_when_a_publication_commits(plans: Plans):
    plans.clock.set(at("2024-01-08", 8))  # the 5-day reminder is already due when the plan is published
    running = asyncio.create_task(plans.context.schedulers["reminders"].run())
    try:
        await asyncio.sleep(0.1)  # asleep: nothing pending, so it naps for max_sleep (60 s)
        await published_plan(plans)  # the publication's commit wakes it
        for _ in range(100):
            if len(await sent(plans)) == 3:
                break
            await asyncio.sleep(0.05)
        assert await sent(plans) == [("due_soon", u, 5, "2024-01-15") for u in VAN_QUAN_COMMUNES]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_new_offsets_replan_pending_reminders_at_start_and_a_sent_one_never_goes_twice(make_settings):
    settings = await make_settings("plans", outbox_retention_hours=KEEP_EVENTS)
    async with running_plans(settings) as plans:
        await plans.load_demo_registry()
        task = await published_plan(plans, "Trước 15/03/2024")
        plans.clock.set(at("2024-03-08"))  # 5 working days before Friday 15/03
        await plans.context.schedulers["reminders"].run_once()
        assert await sent(plans) == [("due_soon", u, 5, "2024-03-15") for u in VAN_QUAN_COMMUNES]
        plans.clock.set(at("2024-03-08", 7).replace(minute=30))
        clock = plans.clock

    changed = await make_settings(
        "plans", outbox_retention_hours=KEEP_EVENTS, plans_reminder_offsets=[5, 3], plans_reminder_hour=8
    )
    async with running_plans(changed, clock=clock) as restarted:
        await replan_on_start(restarted.context)  # what the service's start-up worker does
        url = f"/plans/v1/plans/{task['obligations'][0]['plan_id']}"
        for _ in range(100):
            if (await restarted.http.get(url)).json()["reminder_policy"] == "5,3@8":
                break
            await asyncio.sleep(0.05)
        assert (await restarted.http.get(url)).json()["reminder_policy"] == "5,3@8"

        scheduler = restarted.context.schedulers["reminders"]
        expected = {("due_soon", u, 5, "2024-03-15") for u in VAN_QUAN_COMMUNES}
        for instant, new in (
            (at("2024-03-08", 8), set()),  # 5 days at the new hour: already sent at 7
            (at("2024-03-12", 8), {("due_soon", u, 3, "2024-03-15") for u in VAN_QUAN_COMMUNES}),
            (at("2024-03-14", 7), set()),  # the old 1-day reminder is gone
            (at("2024-03-18", 7), set()),
            (at("2024-03-18", 8), {("overdue", u, 1, "2024-03-15") for u in VAN_QUAN_COMMUNES}),
        ):
            restarted.clock.set(instant)
            await scheduler.run_once()
            expected |= new
            assert set(await sent(restarted)) == expected and len(await sent(restarted)) == len(expected)
