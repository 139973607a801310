"""A revised table for a published plan makes a new revision of the same plan: progress kept, removed
tasks withdrawn with their reminders, moved dates rescheduled with ``task.rescheduled``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.clock import VN_TZ
from tests.support.plans import VAN_QUAN_COMMUNES, Plans, csv_bytes

HEADER = ["Phần", "STT", "Nhiệm vụ", "Tiến độ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Kết quả/sản phẩm"]
TITLE = "KH CCHC 2024"
REVIEW = ["I. Thể chế", "1", "Rà soát văn bản quy phạm pháp luật", "Trước 30/06/2024", "Phòng Tư pháp", "", "Báo cáo"]
PUBLICITY = ["I. Thể chế", "2", "Tuyên truyền cải cách hành chính", "Trước 31/03/2024", "UBND các xã, thị trấn", "", ""]
DIGITISE = ["I. Thể chế", "3", "Số hóa hồ sơ, kết quả giải quyết TTHC", "Quý III/2024", "Phòng Nội vụ", "", "Dữ liệu"]
INSPECT = ["I. Thể chế", "4", "Kiểm tra công tác CCHC", "Quý IV/2024", "Phòng Nội vụ", "", "Báo cáo"]
FIRST = [HEADER, REVIEW, PUBLICITY, DIGITISE]
REVISED = [HEADER, REVIEW, [*PUBLICITY[:3], "Trước 30/04/2024", *PUBLICITY[4:]], INSPECT]


def at(day: str, hour: int = 7) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hour), VN_TZ)


async def import_rows(plans: Plans, rows: list[list[str]]) -> dict[str, Any]:
    answer = await plans.import_table(csv_bytes(rows), title=TITLE)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def tasks(plans: Plans, plan_id: int) -> dict[str, dict[str, Any]]:
    tree = (await plans.http.get(f"/plans/v1/plans/{plan_id}/tree")).json()
    return {n["label"]: n for area in tree["areas"] for n in area["children"]}


async def report(plans: Plans, obligation: dict[str, Any], percent: float) -> None:
    body = {"version": obligation["version"], "status": "in_progress", "percent": percent, "note": "đang làm"}
    answer = await plans.http.patch(f"/plans/v1/obligations/{obligation['id']}", json=body)
    assert answer.status_code == 200, answer.text


async def published_with_progress(plans: Plans) -> tuple[int, dict[str, dict[str, Any]]]:
    first = await import_rows(plans, FIRST)
    assert (await plans.http.post(f"/plans/v1/plans/{first['plan_id']}:publish")).status_code == 200
    before = await tasks(plans, first["plan_id"])
    await report(plans, before["1"]["obligations"][0], 50)
    await report(plans, before["2"]["obligations"][0], 30)
    return first["plan_id"], await tasks(plans, first["plan_id"])


async def test_a_revised_table_makes_a_new_revision_of_the_published_plan_keeping_progress(plans: Plans):
    plan_id, before = await published_with_progress(plans)

    answer = await import_rows(plans, REVISED)

    assert answer["plan_id"] == plan_id and answer["unchanged"] is False and answer["revision"] == 2
    changes = {k: answer[k] for k in ("rows_added", "rows_changed", "rows_removed", "tasks_removed")}
    assert changes == {"rows_added": 1, "rows_changed": 1, "rows_removed": 1, "tasks_removed": 1}
    assert (answer["tasks_created"], answer["tasks_rescheduled"], answer["obligations_withdrawn"]) == (1, 1, 1)
    plan = (await plans.http.get(f"/plans/v1/plans/{plan_id}")).json()
    assert (plan["status"], plan["revision"]) == ("published", 2)
    assert [p["id"] for p in (await plans.http.get("/plans/v1/plans")).json()["items"]] == [plan_id]

    after = await tasks(plans, plan_id)
    assert sorted(after) == ["1", "2", "4"]
    assert after["1"]["id"] == before["1"]["id"] and after["2"]["id"] == before["2"]["id"]
    kept = after["1"]["obligations"][0]
    assert (kept["id"], kept["percent"], kept["status"], kept["note"]) == (
        before["1"]["obligations"][0]["id"],
        50.0,
        "in_progress",
        "đang làm",
    )
    moved = after["2"]["obligations"][0]
    assert (moved["id"], moved["percent"], moved["due"]) == (before["2"]["obligations"][0]["id"], 30.0, "2024-04-30")
    assert after["2"]["dues"] == ["2024-04-30"]
    assert after["1"]["progress"] == 50.0 and after["2"]["progress"] == 10.0  # 30 % of one commune in three

    history = (await plans.http.get(f"/plans/v1/plans/{plan_id}/revisions")).json()["items"]
    assert [(r["revision"], r["status"]) for r in history] == [(1, "draft"), (2, "published")]
    assert history[1]["changes"]["tasks_rescheduled"] == 1 and history[0]["changes"]["rows_added"] == 3


async def test_removed_tasks_are_withdrawn_and_their_reminders_never_go(plans: Plans):
    plan_id, before = await published_with_progress(plans)
    removed = before["3"]["obligations"][0]
    owed = await plans.http.get(f"/plans/v1/units/{removed['unit_code']}/obligations?from=2024-01-01&to=2024-12-31")
    assert [i["obligation"]["id"] for i in owed.json()["items"]] == [removed["id"]]  # positive control

    await import_rows(plans, REVISED)

    withdrawn = (await plans.http.get(f"/plans/v1/obligations/{removed['id']}")).json()
    assert withdrawn["withdrawn_at"] is not None
    owed = await plans.http.get(f"/plans/v1/units/{removed['unit_code']}/obligations?from=2024-01-01&to=2024-12-31")
    assert [i["node_title"] for i in owed.json()["items"]] == ["Kiểm tra công tác CCHC"]  # the new task alone
    [event] = await plans.events("task.withdrawn")
    assert (event["obligation_id"], event["reason"], event["unit_code"]) == (
        removed["id"],
        "task_removed",
        removed["unit_code"],
    )
    assert len(event["open_occurrence_ids"]) == 1
    searched = (await plans.http.get("/plans/v1/tasks", params={"q": "số hóa hồ sơ"})).json()["items"]
    assert searched == []

    plans.clock.set(at("2024-10-15"))
    await plans.context.schedulers["reminders"].run_once()
    reminded = {(e["task_id"], e["due"]) for e in await plans.events("task.overdue")}
    assert (before["3"]["id"], "2024-09-30") not in reminded  # the removed task's reminder is gone
    assert (before["1"]["id"], "2024-06-30") in reminded  # positive control: a kept task's went


async def test_moved_dates_are_rescheduled_with_the_event_and_their_reminders_follow(plans: Plans):
    plan_id, before = await published_with_progress(plans)

    await import_rows(plans, REVISED)

    [event] = await plans.events("task.rescheduled")
    assert (event["task_id"], event["plan_id"], event["reason"]) == (before["2"]["id"], plan_id, "revised")
    assert (event["old_due"], event["new_due"], event["old_dues"], event["dues"]) == (
        "2024-03-31",
        "2024-04-30",
        ["2024-03-31"],
        ["2024-04-30"],
    )
    assert event["lead_unit_codes"] == VAN_QUAN_COMMUNES
    moves = {m["obligation_id"]: m for m in event["obligations"]}
    assert sorted(moves) == sorted(o["id"] for o in before["2"]["obligations"])
    assert all(
        [(o["old_due"], o["new_due"]) for o in m["occurrences"]] == [("2024-03-31", "2024-04-30")]
        for m in moves.values()
    )

    plans.clock.set(at("2024-05-02"))
    await plans.context.schedulers["reminders"].run_once()
    overdue = {(e["unit_code"], e["due"]) for e in await plans.events("task.overdue")}
    assert overdue == {(unit, "2024-04-30") for unit in VAN_QUAN_COMMUNES}  # none for the old 31/03


async def test_the_same_revised_table_again_changes_nothing(plans: Plans):
    plan_id, _ = await published_with_progress(plans)
    await import_rows(plans, REVISED)
    events = len(await plans.events("task.rescheduled")) + len(await plans.events("task.withdrawn"))
    tree = (await plans.http.get(f"/plans/v1/plans/{plan_id}/tree")).json()

    again = await import_rows(plans, REVISED)

    assert again["unchanged"] is True and again["plan_id"] == plan_id and again["revision"] == 2
    assert (again["tasks_rescheduled"], again["obligations_withdrawn"], again["tasks_removed"]) == (0, 0, 0)
    assert len(await plans.events("task.rescheduled")) + len(await plans.events("task.withdrawn")) == events == 2
    assert (await plans.http.get(f"/plans/v1/plans/{plan_id}/tree")).json() == tree
    assert len((await plans.http.get(f"/plans/v1/plans/{plan_id}/revisions")).json()["items"]) == 2


async def test_a_unit_no_longer_named_is_withdrawn_and_a_newly_named_one_owes_the_task(plans: Plans):
    plan_id, before = await published_with_progress(plans)
    relead = [HEADER, [*REVIEW[:4], "Phòng Nội vụ", *REVIEW[5:]], PUBLICITY, DIGITISE]

    answer = await import_rows(plans, relead)

    assert (answer["rows_changed"], answer["tasks_rescheduled"], answer["obligations_withdrawn"]) == (1, 0, 1)
    after = await tasks(plans, plan_id)
    assert after["1"]["id"] == before["1"]["id"]
    old, new = before["1"]["obligations"][0], after["1"]["obligations"]
    live = [o for o in new if o["withdrawn_at"] is None]
    assert [o["unit_code"] for o in live] != [old["unit_code"]] and len(live) == 1
    kept = next(o for o in new if o["id"] == old["id"])
    assert kept["withdrawn_at"] is not None and kept["percent"] == 50.0  # what it reported stays
    [event] = await plans.events("task.withdrawn")
    assert (event["obligation_id"], event["reason"]) == (old["id"], "unit_removed")
