"""``cchc run --demo``: the seed plans replayed in the current year, their reminders live, no burst at start."""

from __future__ import annotations

from datetime import datetime

from services.plans.demo import load_demo, redated
from services.plans.reminders import next_due
from shared.clock import VN_TZ, ManualClock
from tests.support.plans import KEEP_EVENTS, VAN_QUAN_HOME_AFFAIRS, Plans, running_plans

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)
LUC_NGAN_HOME_AFFAIRS = "000.01.10.H24"  # owes duties of December of the year before the plan's: overdue all year


def test_the_seed_text_moves_by_whole_years_and_leaves_other_years_alone():
    text = "Trước 15/01/2024; Tháng 12/2023; giai đoạn 2021 - 2025; ISO 9001:2015; 120240 hồ sơ"
    assert redated(text, 2) == "Trước 15/01/2026; Tháng 12/2025; giai đoạn 2021 - 2025; ISO 9001:2015; 120240 hồ sơ"
    assert redated(text, 0) == text


async def events(plans: Plans) -> list[tuple[str, str, str]]:
    return [
        (kind, e["unit_code"], e["due"]) for kind in ("task.due_soon", "task.overdue") for e in await plans.events(kind)
    ]


async def test_the_demo_plans_are_this_years_and_only_reminders_ahead_are_sent(make_settings):
    settings = await make_settings("plans", outbox_retention_hours=KEEP_EVENTS)
    async with running_plans(settings, clock=ManualClock(NOW)) as plans:
        await load_demo(plans.context)
        listed = (await plans.http.get("/plans/v1/plans")).json()["items"]
        assert sorted((p["year"], p["status"]) for p in listed) == [(2026, "published")] * 4
        van_quan = next(p for p in listed if p["number"] == "183/KH-UBND")
        assert van_quan["title"].endswith("năm 2026 huyện Văn Quan")
        owed = (
            await plans.http.get(
                f"/plans/v1/units/{VAN_QUAN_HOME_AFFAIRS}/obligations",
                params={"from": "2026-01-01", "to": "2026-12-31"},
            )
        ).json()["items"]
        assert owed and {i["plan_id"] for i in owed} == {van_quan["id"]}

        await plans.context.schedulers["reminders"].run_once()
        assert await events(plans) == []  # no burst: what fell due before the demo started is history
        overdue = (await plans.http.get(f"/plans/v1/units/{LUC_NGAN_HOME_AFFAIRS}/overdue")).json()["items"]
        assert overdue and min(i["due"] for i in overdue) == "2025-11-30"  # "Tháng 11/2023" of the seed

        async with plans.context.uow() as uow:
            upcoming = await next_due(uow)
        assert upcoming is not None and upcoming > NOW
        plans.clock.set(upcoming)
        await plans.context.schedulers["reminders"].run_once()
        assert await events(plans)  # the next reminders go out live

        await load_demo(plans.context)  # a second start changes nothing
        assert len((await plans.http.get("/plans/v1/plans")).json()["items"]) == 4
