"""Unit groups announce their members (unit_group.upserted), and the obligations of published plans
follow them: a new member owes what is still ahead, a member that left keeps its history but gets
no more reminders."""

from __future__ import annotations

from datetime import date, datetime

from shared.clock import VN_TZ
from tests.support.plans import VAN_QUAN, VAN_QUAN_COMMUNES, Plans, plan_with_task

COMMUNES = f"{VAN_QUAN}.communes"
NEW_COMMUNE = "000.00.14.H20"


def at(day: str, hour: int = 7) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hour), VN_TZ)


async def communes_task(plans: Plans, schedule: str = "Trước ngày 25 hàng tháng") -> dict:
    """A published plan of Văn Quan with one task led by "UBND các xã, thị trấn"."""
    return await plan_with_task(plans, schedule)


async def obligations_of(plans: Plans, task: dict) -> dict[str, dict]:
    tree = (await plans.http.get(f"/plans/v1/plans/{task['obligations'][0]['plan_id']}/tree")).json()
    [node] = [n for n in tree["areas"][0]["children"] if n["id"] == task["id"]]
    return {o["unit_code"]: o for o in node["obligations"]}


async def test_a_group_change_is_announced_with_its_members_and_a_group_in_use_is_kept(plans: Plans):
    body = {"name": "Tổ công tác", "owner_code": VAN_QUAN, "members": VAN_QUAN_COMMUNES[:2]}
    assert (await plans.http.put("/plans/v1/unit-groups/TCT", json=body)).status_code == 200
    assert (await plans.http.put("/plans/v1/unit-groups/TCT", json=body)).status_code == 200  # unchanged: no event
    assert (
        await plans.http.put("/plans/v1/unit-groups/TCT", json={**body, "members": VAN_QUAN_COMMUNES})
    ).status_code == 200
    events = [e for e in await plans.events("unit_group.upserted") if e["code"] == "TCT"]
    assert [(e["version"], e["members"], e["resolved_members"]) for e in events] == [
        (1, VAN_QUAN_COMMUNES[:2], VAN_QUAN_COMMUNES[:2]),
        (2, VAN_QUAN_COMMUNES, VAN_QUAN_COMMUNES),
    ]
    assert (await plans.http.delete("/plans/v1/unit-groups/TCT")).status_code == 204
    assert await plans.events("unit_group.deleted") == [{"code": "TCT", "version": 2}]

    await communes_task(plans)
    in_use = await plans.http.delete(f"/plans/v1/unit-groups/{COMMUNES}")
    assert in_use.status_code == 409 and in_use.json()["errors"][0]["field"] == "code"


async def test_a_new_commune_joins_by_the_level_rule_and_owes_what_is_ahead(plans: Plans):
    task = await communes_task(plans)
    plans.clock.set(at("2024-06-10", 9))
    answer = await plans.http.put(
        f"/plans/v1/units/{NEW_COMMUNE}", json={"name": "UBND xã Mới", "level": "commune", "parent_code": VAN_QUAN}
    )
    assert answer.status_code == 200

    [announced] = [
        e
        for e in await plans.events("unit_group.upserted")
        if e["code"] == COMMUNES and NEW_COMMUNE in e["resolved_members"]
    ]
    assert announced["version"] == 2 and announced["resolved_members"] == [*VAN_QUAN_COMMUNES, NEW_COMMUNE]
    joined = (await obligations_of(plans, task))[NEW_COMMUNE]
    assert (joined["group_code"], joined["status"], joined["due"]) == (COMMUNES, "not_started", "2024-12-25")
    months = (await plans.http.get(f"/plans/v1/obligations/{joined['id']}/occurrences")).json()
    assert [m["due"] for m in months] == [f"2024-{m:02}-25" for m in range(6, 13)]  # not the months before it joined

    plans.clock.set(at("2024-06-18"))  # 5 working days before 25/06
    await plans.context.schedulers["reminders"].run_once()
    due_soon = await plans.events("task.due_soon")
    assert sorted(e["unit_code"] for e in due_soon if e["due"] == "2024-06-25") == sorted(
        [*VAN_QUAN_COMMUNES, NEW_COMMUNE]
    )


async def test_a_member_that_leaves_keeps_its_history_and_gets_no_more_reminders(plans: Plans):
    task = await communes_task(plans, "Trước 15/03/2024")
    leaving = VAN_QUAN_COMMUNES[0]
    before = (await obligations_of(plans, task))[leaving]
    report = await plans.http.patch(f"/plans/v1/obligations/{before['id']}", json={"version": 1, "percent": 50})
    assert report.status_code == 200
    other = (await obligations_of(plans, task))[VAN_QUAN_COMMUNES[1]]
    await plans.http.patch(f"/plans/v1/obligations/{other['id']}", json={"version": 1, "percent": 20})

    moved = await plans.http.put(
        f"/plans/v1/units/{leaving}",
        json={"name": "UBND thị trấn Văn Quan", "level": "commune", "parent_code": "000.00.10.H24"},
    )  # now under Lục Ngạn
    assert moved.status_code == 200
    kept = (await obligations_of(plans, task))[leaving]
    assert (kept["percent"], kept["version"]) == (50.0, 3) and kept["withdrawn_at"] is not None
    tree = (await plans.http.get(f"/plans/v1/plans/{kept['plan_id']}/tree")).json()
    assert tree["areas"][0]["children"][0]["progress"] == 10.0  # mean of the two communes left: (20 + 0) / 2
    refused = await plans.http.patch(f"/plans/v1/obligations/{kept['id']}", json={"version": 3, "percent": 80})
    assert refused.status_code == 409

    plans.clock.set(at("2024-04-01"))
    await plans.context.schedulers["reminders"].run_once()
    assert sorted(e["unit_code"] for e in await plans.events("task.overdue")) == VAN_QUAN_COMMUNES[1:]
    assert (await plans.http.get(f"/plans/v1/units/{leaving}/overdue")).json()["items"] == []

    back = await plans.http.put(
        f"/plans/v1/units/{leaving}",
        json={"name": "UBND thị trấn Văn Quan", "level": "commune", "parent_code": VAN_QUAN},
    )
    assert back.status_code == 200
    rejoined = (await obligations_of(plans, task))[leaving]
    assert (rejoined["withdrawn_at"], rejoined["percent"], rejoined["id"]) == (None, 50.0, kept["id"])
    await plans.context.schedulers["reminders"].run_once()
    assert sorted(e["unit_code"] for e in await plans.events("task.overdue")) == sorted(VAN_QUAN_COMMUNES)
