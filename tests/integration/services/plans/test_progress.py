"""Progress per obligation, its weighted roll-up, completion on time or late, and conflicting edits."""

from __future__ import annotations

import asyncio
from datetime import datetime

from shared.clock import VN_TZ
from tests.support.plans import (
    VAN_QUAN,
    VAN_QUAN_COMMUNES,
    VAN_QUAN_HOME_AFFAIRS,
    Plans,
)


async def small_plan(plans: Plans) -> dict:
    """Area A: task T1 (lead: the three communes, due 15/01/2024), task T2 (lead: Phòng Nội vụ, weight 3)."""
    plan = (
        await plans.http.post("/plans/v1/plans", json={"issuer_code": VAN_QUAN, "title": "KH thử", "year": 2024})
    ).json()
    node = f"/plans/v1/plans/{plan['id']}/nodes"
    area = (await plans.http.post(node, json={"kind": "area", "label": "I", "title": "Cải cách TTHC"})).json()
    t1 = (
        await plans.http.post(
            node,
            json={
                "kind": "task",
                "parent_id": area["id"],
                "label": "1",
                "title": "Rà soát TTHC",
                "schedule": "Trước 15/01/2024",
                "lead": "UBND các xã, thị trấn",
            },
        )
    ).json()
    t2 = (
        await plans.http.post(
            node,
            json={
                "kind": "task",
                "parent_id": area["id"],
                "label": "2",
                "title": "Số hóa hồ sơ",
                "schedule": "Quý IV/2024",
                "lead": "Phòng Nội vụ",
                "weight": 3,
            },
        )
    ).json()
    return {"plan": plan, "area": area, "t1": t1, "t2": t2}


async def report(plans: Plans, obligation: dict, **body) -> dict:
    answer = await plans.http.patch(
        f"/plans/v1/obligations/{obligation['id']}", json={"version": obligation["version"], **body}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def tree_progress(plans: Plans, plan_id: int) -> tuple[float, float, float, float]:
    tree = (await plans.http.get(f"/plans/v1/plans/{plan_id}/tree")).json()
    [area] = tree["areas"]
    t1, t2 = area["children"]
    return tree["plan"]["progress"], area["progress"], t1["progress"], t2["progress"]


async def test_progress_rolls_up_to_task_area_and_plan_weighted(plans: Plans):
    p = await small_plan(plans)
    communes = p["t1"]["obligations"]
    assert sorted(o["unit_code"] for o in communes) == VAN_QUAN_COMMUNES
    [home_affairs] = p["t2"]["obligations"]
    assert home_affairs["unit_code"] == VAN_QUAN_HOME_AFFAIRS

    await report(plans, communes[0], percent=30, note="đang rà soát", evidence=["https://vanquan.langson.gov.vn/bc/1"])
    await report(plans, communes[1], percent=60)
    await report(plans, home_affairs, percent=50)

    # T1 = mean(30, 60, 0) = 30; T2 = 50; area = (30·1 + 50·3) / 4 = 45; plan = area
    assert await tree_progress(plans, p["plan"]["id"]) == (45.0, 45.0, 30.0, 50.0)
    first = (await plans.http.get(f"/plans/v1/obligations/{communes[0]['id']}")).json()
    assert (first["status"], first["version"], first["evidence"]) == (
        "in_progress",
        2,
        ["https://vanquan.langson.gov.vn/bc/1"],
    )


async def test_done_on_time_and_late_set_the_flag_and_announce_task_completed(plans: Plans):
    p = await small_plan(plans)
    early, late = p["t1"]["obligations"][:2]
    plans.clock.set(datetime(2024, 1, 10, 9, 0, tzinfo=VN_TZ))
    on_time = await report(plans, early, status="done")
    plans.clock.set(datetime(2024, 1, 20, 9, 0, tzinfo=VN_TZ))
    overdue = await report(plans, late, status="done", completed_on="2024-01-19")

    assert (on_time["percent"], on_time["completed_on"], on_time["on_time"]) == (100.0, "2024-01-10", True)
    assert (overdue["completed_on"], overdue["on_time"]) == ("2024-01-19", False)
    events = await plans.events("task.completed")
    assert [(e["obligation_id"], e["unit_code"], e["completed_at"], e["due"], e["on_time"]) for e in events] == [
        (early["id"], early["unit_code"], "2024-01-10", "2024-01-15", True),
        (late["id"], late["unit_code"], "2024-01-19", "2024-01-15", False),
    ]
    again = await plans.http.patch(
        f"/plans/v1/obligations/{early['id']}", json={"version": on_time["version"], "percent": 50}
    )
    assert again.status_code == 409  # a done obligation stays done
    assert len(await plans.events("task.completed")) == 2


async def test_a_report_on_a_stale_version_is_refused(plans: Plans):
    p = await small_plan(plans)
    [obligation] = p["t2"]["obligations"]
    await report(plans, obligation, percent=20)

    stale = await plans.http.patch(f"/plans/v1/obligations/{obligation['id']}", json={"version": 1, "percent": 90})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.json()["errors"][0]["field"] == "version"
    assert (await plans.http.get(f"/plans/v1/obligations/{obligation['id']}")).json()["percent"] == 20


async def test_two_concurrent_reports_on_the_same_version_one_wins(plans: Plans):
    p = await small_plan(plans)
    [obligation] = p["t2"]["obligations"]
    url = f"/plans/v1/obligations/{obligation['id']}"
    answers = await asyncio.gather(
        *(plans.http.patch(url, json={"version": 1, "percent": pct}) for pct in (10, 20, 30))
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert (await plans.http.get(url)).json() == winner


async def test_bad_progress_reports_get_field_errors(plans: Plans):
    p = await small_plan(plans)
    [obligation] = p["t2"]["obligations"]
    url = f"/plans/v1/obligations/{obligation['id']}"
    too_much = await plans.http.patch(url, json={"version": 1, "percent": 120})
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "body.percent"
    future = await plans.http.patch(url, json={"version": 1, "status": "done", "completed_on": "2030-01-01"})
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "completed_on"
    missing = await plans.http.patch("/plans/v1/obligations/999999", json={"version": 1, "percent": 1})
    assert missing.status_code == 404
