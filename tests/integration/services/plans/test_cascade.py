"""Parent plan cascade: a child plan's task implements a parent plan's task, owes its deadline unless
it sets an earlier one, may not set a later one, and follows when the parent's deadline moves."""

from __future__ import annotations

from datetime import date, datetime

from shared.clock import VN_TZ
from tests.support.plans import (
    VAN_QUAN,
    VAN_QUAN_COMMUNES,
    VAN_QUAN_HOME_AFFAIRS,
    Plans,
)

PROVINCE = "000.00.00.H20"
TOWN = VAN_QUAN_COMMUNES[0]


def at(day: str, hour: int = 7) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hour), VN_TZ)


async def plan_with_area(plans: Plans, issuer: str, parent_id: int | None = None) -> tuple[int, int]:
    body = {"issuer_code": issuer, "title": "KH CCHC", "year": 2024, "parent_id": parent_id}
    plan = (await plans.http.post("/plans/v1/plans", json=body)).json()
    area = (
        await plans.http.post(f"/plans/v1/plans/{plan['id']}/nodes", json={"kind": "area", "title": "Chỉ đạo"})
    ).json()
    return plan["id"], area["id"]


async def add_task(plans: Plans, plan_id: int, area_id: int, **cells):
    return await plans.http.post(
        f"/plans/v1/plans/{plan_id}/nodes", json={"kind": "task", "parent_id": area_id, "title": "Ban hành KH", **cells}
    )


async def publish(plans: Plans, *plan_ids: int) -> None:
    for plan_id in plan_ids:
        assert (await plans.http.post(f"/plans/v1/plans/{plan_id}:publish")).status_code == 200


async def node(plans: Plans, task: dict) -> dict:
    tree = (await plans.http.get(f"/plans/v1/plans/{task['obligations'][0]['plan_id']}/tree")).json()
    return next(n for n in tree["areas"][0]["children"] if n["id"] == task["id"])


async def family(plans: Plans) -> dict:
    """Province task due 15/01; in Văn Quan's plan a task following it and one due earlier, 10/01."""
    province, province_area = await plan_with_area(plans, PROVINCE)
    parent = (await add_task(plans, province, province_area, schedule="Trước 15/01/2024")).json()
    district, district_area = await plan_with_area(plans, VAN_QUAN, province)
    following = (await add_task(plans, district, district_area, lead="Phòng Nội vụ", implements_id=parent["id"])).json()
    earlier = (
        await add_task(
            plans, district, district_area, lead="Phòng Nội vụ", schedule="Trước 10/01/2024", implements_id=parent["id"]
        )
    ).json()
    return {
        "province": province,
        "district": district,
        "district_area": district_area,
        "parent": parent,
        "following": following,
        "earlier": earlier,
    }


async def test_a_child_task_owes_the_parents_deadline_and_may_not_set_a_later_one(plans: Plans):
    f = await family(plans)
    assert (f["following"]["implements_id"], f["following"]["dues"]) == (f["parent"]["id"], ["2024-01-15"])
    assert [o["due"] for o in f["following"]["obligations"]] == ["2024-01-15"]
    assert f["earlier"]["dues"] == ["2024-01-10"]

    later = await add_task(
        plans, f["district"], f["district_area"], schedule="Trước 31/01/2024", implements_id=f["parent"]["id"]
    )
    assert later.status_code == 422
    assert later.json()["code"] == "deadline_after_parent" and later.json()["parent_deadline"] == "2024-01-15"
    assert later.json()["errors"] == [
        {"field": "schedule", "message": "muộn hơn hạn của nhiệm vụ cấp trên (15/01/2024)"}
    ]
    edited = await plans.http.patch(f"/plans/v1/nodes/{f['earlier']['id']}", json={"schedule": "Quý I/2024"})
    assert edited.status_code == 422 and edited.json()["errors"][0]["field"] == "schedule"

    stranger, stranger_area = await plan_with_area(plans, VAN_QUAN)  # no parent plan
    unlinked = await add_task(plans, stranger, stranger_area, implements_id=f["parent"]["id"])
    assert unlinked.status_code == 400 and unlinked.json()["errors"][0]["field"] == "implements_id"
    own_plan = await add_task(plans, f["district"], f["district_area"], implements_id=f["following"]["id"])
    assert own_plan.status_code == 400  # a task of the same plan is not a parent plan's task
    area = await plans.http.post(
        f"/plans/v1/plans/{f['district']}/nodes",
        json={"kind": "area", "title": "Khác", "implements_id": f["parent"]["id"]},
    )
    assert area.status_code == 400 and area.json()["errors"][0]["field"] == "implements_id"


async def test_when_the_parent_deadline_moves_children_follow_with_their_reminders(plans: Plans):
    f = await family(plans)
    await publish(plans, f["province"], f["district"])
    moved = await plans.http.patch(f"/plans/v1/nodes/{f['parent']['id']}", json={"schedule": "Trước 31/01/2024"})
    assert moved.status_code == 200 and moved.json()["dues"] == ["2024-01-31"]

    following, earlier = await node(plans, f["following"]), await node(plans, f["earlier"])
    assert (following["dues"], following["obligations"][0]["due"]) == (["2024-01-31"], "2024-01-31")
    assert earlier["dues"] == ["2024-01-10"]  # its own earlier deadline stands
    assert [
        (e["task_id"], e["reason"], e["old_due"], e["new_due"], e["unit_codes"])
        for e in await plans.events("task.rescheduled")
    ] == [
        (f["parent"]["id"], "edited", "2024-01-15", "2024-01-31", []),
        (f["following"]["id"], "parent_changed", "2024-01-15", "2024-01-31", [VAN_QUAN_HOME_AFFAIRS]),
    ]

    scheduler = plans.context.schedulers["reminders"]
    plans.clock.set(at("2024-01-16"))  # the overdue day of the old deadline
    await scheduler.run_once()
    sent = [(e["task_id"], e["due"]) for kind in ("task.due_soon", "task.overdue") for e in await plans.events(kind)]
    assert (f["following"]["id"], "2024-01-15") not in sent
    plans.clock.set(at("2024-01-24"))  # five working days before 31/01
    await scheduler.run_once()
    due_soon = [(e["task_id"], e["due"], e["offset_days"]) for e in await plans.events("task.due_soon")]
    assert (f["following"]["id"], "2024-01-31", 5) in due_soon


async def test_an_earlier_parent_deadline_brings_back_later_children_down_to_grandchildren(plans: Plans):
    f = await family(plans)
    commune, commune_area = await plan_with_area(plans, TOWN, f["district"])
    grandchild = (
        await add_task(plans, commune, commune_area, lead="UBND thị trấn Văn Quan", implements_id=f["following"]["id"])
    ).json()
    assert grandchild["dues"] == ["2024-01-15"]
    await publish(plans, f["province"], f["district"], commune)

    assert (
        await plans.http.patch(f"/plans/v1/nodes/{f['parent']['id']}", json={"schedule": "Trước 05/01/2024"})
    ).status_code == 200
    assert (await node(plans, f["earlier"]))["dues"] == ["2024-01-05"]
    assert (await node(plans, f["following"]))["dues"] == ["2024-01-05"]
    assert (await node(plans, grandchild))["dues"] == ["2024-01-05"]
    reasons = {e["task_id"]: e["reason"] for e in await plans.events("task.rescheduled")}
    assert reasons == {
        f["parent"]["id"]: "edited",
        f["earlier"]["id"]: "parent_changed",
        f["following"]["id"]: "parent_changed",
        grandchild["id"]: "parent_changed",
    }

    unlinked = await plans.http.patch(
        f"/plans/v1/nodes/{f['earlier']['id']}", json={"implements_id": None, "schedule": "Trước 10/01/2024"}
    )
    assert unlinked.status_code == 200 and unlinked.json()["dues"] == ["2024-01-10"]
    assert (
        await plans.http.patch(f"/plans/v1/nodes/{f['earlier']['id']}", json={"implements_id": f["parent"]["id"]})
    ).status_code == 422
