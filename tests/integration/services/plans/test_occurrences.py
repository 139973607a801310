"""Progress per occurrence of a recurring duty: one month done is not the year done, reminders stop
for that month only, task.completed names the occurrence, and the obligation rolls them up."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from shared.clock import VN_TZ
from tests.support.plans import VAN_QUAN_HOME_AFFAIRS, Plans, plan_with_task


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hour), VN_TZ)


async def duty(plans: Plans, schedule: str, *, publish: bool = True) -> dict:
    """A plan with one task of Phòng Nội vụ on ``schedule``; the task's only obligation."""
    task = await plan_with_task(plans, schedule, lead="Phòng Nội vụ", publish=publish)
    [obligation] = task["obligations"]
    assert obligation["unit_code"] == VAN_QUAN_HOME_AFFAIRS
    return obligation


async def occurrences(plans: Plans, obligation: dict) -> list[dict]:
    answer = await plans.http.get(f"/plans/v1/obligations/{obligation['id']}/occurrences")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def report(plans: Plans, occurrence: dict, **body) -> dict:
    answer = await plans.http.patch(
        f"/plans/v1/occurrences/{occurrence['id']}", json={"version": occurrence["version"], **body}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def obligation_now(plans: Plans, obligation: dict) -> dict:
    return (await plans.http.get(f"/plans/v1/obligations/{obligation['id']}")).json()


async def test_one_month_done_leaves_the_other_months_owed_and_reminded(plans: Plans):
    obligation = await duty(plans, "Trước ngày 25 hàng tháng")
    months = await occurrences(plans, obligation)
    assert [o["due"] for o in months[:3]] == ["2024-01-25", "2024-02-25", "2024-03-25"] and len(months) == 12

    refused = await plans.http.patch(f"/plans/v1/obligations/{obligation['id']}", json={"version": 1, "status": "done"})
    assert refused.status_code == 422 and refused.json()["code"] == "report_per_occurrence"
    assert refused.json()["errors"] == [{"field": "status", "message": "báo cáo theo từng lần đến hạn"}]

    plans.clock.set(at("2024-01-20"))
    january = await report(plans, months[0], status="done", evidence=["https://vanquan.langson.gov.vn/bc/01"])
    assert (january["status"], january["done_on"], january["on_time"], january["version"]) == (
        "done",
        "2024-01-20",
        True,
        2,
    )
    rolled = await obligation_now(plans, obligation)
    assert (rolled["status"], rolled["percent"], rolled["completed_on"], rolled["version"]) == (
        "in_progress",
        8.3333,
        None,
        2,
    )
    [event] = await plans.events("task.completed")
    assert (event["occurrence_id"], event["due"], event["on_time"], event["obligation_done"]) == (
        months[0]["id"],
        "2024-01-25",
        True,
        False,
    )

    plans.clock.set(at("2024-03-01"))  # January's and February's reminders all fell due meanwhile
    await plans.context.schedulers["reminders"].run_once()
    overdue = await plans.events("task.overdue")
    assert [(e["occurrence_id"], e["due"]) for e in overdue] == [(months[1]["id"], "2024-02-25")]
    assert await plans.events("task.due_soon") == []  # February's were superseded by its overdue; January's cancelled
    late = (await plans.http.get(f"/plans/v1/units/{VAN_QUAN_HOME_AFFAIRS}/overdue")).json()["items"]
    assert [(i["due"], i["occurrence"]["status"]) for i in late] == [("2024-02-25", "not_started")]


async def test_the_obligation_is_done_when_every_occurrence_is_and_on_time_only_if_each_was(plans: Plans):
    obligation = await duty(plans, "Báo cáo hàng quý")
    quarters = await occurrences(plans, obligation)
    plans.clock.set(at("2025-01-10"))
    for quarter, done_on in zip(quarters, ("2024-03-29", "2024-07-02", "2024-09-30", "2024-12-31"), strict=True):
        await report(plans, quarter, status="done", completed_on=done_on)

    done = await obligation_now(plans, obligation)
    assert (done["status"], done["percent"], done["completed_on"], done["on_time"]) == (
        "done",
        100.0,
        "2024-12-31",
        False,
    )
    events = await plans.events("task.completed")
    assert [(e["on_time"], e["obligation_done"]) for e in events] == [
        (True, False),
        (False, False),
        (True, False),
        (True, True),
    ]
    tree = (await plans.http.get(f"/plans/v1/plans/{obligation['plan_id']}/tree")).json()
    assert tree["plan"]["progress"] == 100.0


async def test_an_occurrence_report_needs_its_current_version_and_parallel_months_all_count(plans: Plans):
    obligation = await duty(plans, "Trước ngày 25 hàng tháng")
    months = await occurrences(plans, obligation)
    await report(plans, months[0], percent=50)
    stale = await plans.http.patch(f"/plans/v1/occurrences/{months[0]['id']}", json={"version": 1, "percent": 60})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2

    answers = await asyncio.gather(
        *(plans.http.patch(f"/plans/v1/occurrences/{m['id']}", json={"version": 1, "percent": 60}) for m in months[1:7])
    )
    assert [a.status_code for a in answers] == [200] * 6
    rolled = await obligation_now(plans, obligation)
    assert rolled["percent"] == round((50 + 6 * 60) / 12, 4)  # each roll-up saw the others' reports


async def test_a_one_off_obligation_reports_either_way_and_its_occurrence_follows(plans: Plans):
    obligation = await duty(plans, "Trước 15/01/2024")
    [occurrence] = await occurrences(plans, obligation)
    plans.clock.set(at("2024-01-12"))
    answer = await plans.http.patch(
        f"/plans/v1/obligations/{obligation['id']}", json={"version": 1, "percent": 40, "note": "đang làm"}
    )
    assert answer.status_code == 200
    mirrored = (await plans.http.get(f"/plans/v1/occurrences/{occurrence['id']}")).json()
    assert (mirrored["status"], mirrored["percent"], mirrored["note"], mirrored["version"]) == (
        "in_progress",
        40.0,
        "đang làm",
        2,
    )

    done = await report(plans, mirrored, status="done")
    assert (done["done_on"], done["on_time"]) == ("2024-01-12", True)
    rolled = await obligation_now(plans, obligation)
    assert (rolled["status"], rolled["completed_on"], rolled["on_time"], rolled["version"]) == (
        "done",
        "2024-01-12",
        True,
        3,
    )
    [event] = await plans.events("task.completed")
    assert (event["occurrence_id"], event["obligation_done"]) == (occurrence["id"], True)
    owed = (
        await plans.http.get(
            f"/plans/v1/units/{VAN_QUAN_HOME_AFFAIRS}/obligations", params={"from": "2024-01-01", "to": "2024-01-31"}
        )
    ).json()
    assert [(i["occurrence"]["status"], i["occurrence"]["version"]) for i in owed["items"]] == [("done", 3)]
