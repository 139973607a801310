"""The plans service's audit log: units, groups, plans, their nodes, progress and targets each
leave exactly one row per change, by whoever made it, through REST and GraphQL alike."""

from __future__ import annotations

from tests.integration.services.plans.test_graphql_mutations import SET_TARGET
from tests.support.audit import AUDITOR, actions, audit_rows, client_as
from tests.support.plans import SEEDS, VAN_QUAN, Plans

UNIT = "000.00.30.H20"
TARGET = {
    "metric_code": "dossiers.on_time_rate",
    "operator": ">",
    "value": "99.9",
    "strict": True,
    "level": "district",
    "period": "2024",
}


async def test_every_change_leaves_one_row_by_its_author(plans: Plans):
    before = len(await audit_rows(plans.context))  # the demo registry, loaded by the fixture
    async with client_as(plans.runtime, AUDITOR) as http:
        unit = {"name": "UBND xã Thử", "level": "commune", "parent_code": VAN_QUAN}
        assert (await http.put(f"/plans/v1/units/{UNIT}", json=unit)).status_code == 200
        assert (await http.put(f"/plans/v1/units/{UNIT}", json=unit)).status_code == 200  # the same: no change
        assert (await http.patch(f"/plans/v1/units/{UNIT}", json={"name": "UBND xã Thử Mới"})).status_code == 200
        group = {"name": "Xã thử", "members": [UNIT]}
        assert (await http.put("/plans/v1/unit-groups/xa-thu", json=group)).status_code == 200
        assert (await http.delete("/plans/v1/unit-groups/xa-thu")).status_code == 204
        assert (await http.delete(f"/plans/v1/units/{UNIT}")).status_code == 204

        plan = (await http.post("/plans/v1/plans", json={"issuer_code": VAN_QUAN, "title": "KH", "year": 2024})).json()
        nodes = f"/plans/v1/plans/{plan['id']}/nodes"
        area = (await http.post(nodes, json={"kind": "area", "label": "I", "title": "Cải cách TTHC"})).json()
        task_body = {
            "kind": "task",
            "parent_id": area["id"],
            "label": "1",
            "title": "Rà soát TTHC",
            "schedule": "Trước 15/01/2024",
            "lead": "Phòng Nội vụ",
        }
        task = (await http.post(nodes, json=task_body)).json()
        moved = await http.patch(f"/plans/v1/nodes/{task['id']}", json={"schedule": "Trước 20/01/2024"})
        assert moved.status_code == 200, moved.text
        assert (await http.post(f"/plans/v1/plans/{plan['id']}:publish")).status_code == 200
        assert (await http.post(f"/plans/v1/plans/{plan['id']}:publish")).status_code == 409  # refused: no row
        [obligation] = moved.json()["obligations"]
        progress = {"version": obligation["version"], "percent": 40, "note": "đang rà soát"}
        assert (await http.patch(f"/plans/v1/obligations/{obligation['id']}", json=progress)).status_code == 200

        target = (await http.post(f"/plans/v1/plans/{plan['id']}/targets", json=TARGET)).json()
        changed = {**TARGET, "value": "99.5", "version": 1}
        assert (await http.put(f"/plans/v1/targets/{target['id']}", json=changed)).status_code == 200
        assert (await http.delete(f"/plans/v1/targets/{target['id']}")).status_code == 204
        graphql_target = {"metricCode": "dossiers.received", "operator": "ge", "value": "10", "period": "2024"}
        answer = await http.post(
            "/graphql", json={"query": SET_TARGET, "variables": {"plan": plan["id"], "input": graphql_target}}
        )
        by_graphql = answer.json()["data"]["setTarget"]
        assert (await http.post(f"/plans/v1/plans/{plan['id']}:close")).status_code == 200

        seed = (SEEDS / "003.csv").read_bytes()
        form = {"issuer": "UBND huyện Văn Quan", "year": "2024"}
        imported = await http.post("/plans/v1/plans:import", files={"file": ("003.csv", seed)}, data=form)
        assert imported.status_code == 200, imported.text

    rows = (await audit_rows(plans.context))[before:]
    by = "admin-binh"
    plan_id, imported_id = str(plan["id"]), str(imported.json()["plan_id"])
    assert actions(rows) == [
        ("unit.set", "unit", UNIT, by),
        ("unit.set", "unit", UNIT, by),
        ("unit_group.set", "unit_group", "xa-thu", by),
        ("unit_group.deleted", "unit_group", "xa-thu", by),
        ("unit.deleted", "unit", UNIT, by),
        ("plan.created", "plan", plan_id, by),
        ("plan.node_added", "plan_node", str(area["id"]), by),
        ("plan.node_added", "plan_node", str(task["id"]), by),
        ("plan.node_changed", "plan_node", str(task["id"]), by),
        ("plan.published", "plan", plan_id, by),
        ("obligation.progress_reported", "obligation", str(obligation["id"]), by),
        ("target.set", "target", str(target["id"]), by),
        ("target.changed", "target", str(target["id"]), by),
        ("target.deleted", "target", str(target["id"]), by),
        ("target.set", "target", str(by_graphql["id"]), by),
        ("plan.closed", "plan", plan_id, by),
        ("plan.imported", "plan", imported_id, by),
    ]
    changes = [r["changes"] for r in rows]
    assert changes[1] == {"name": ["UBND xã Thử", "UBND xã Thử Mới"]}
    assert changes[2]["members"] == [None, [UNIT]]
    assert changes[8] == {"plan_id": plan["id"], "schedule": ["Trước 15/01/2024", "Trước 20/01/2024"]}
    assert changes[10] == {"status": ["not_started", "in_progress"], "percent": [0.0, 40.0], "note": "changed"}
    assert changes[12] == {"value": ["99.9000", "99.5000"]}
    assert changes[16]["source_name"] == "003.csv"


async def test_the_plans_log_is_read_by_object(plans: Plans):
    async with client_as(plans.runtime, AUDITOR) as http:
        plan = (await http.post("/plans/v1/plans", json={"issuer_code": VAN_QUAN, "title": "KH", "year": 2024})).json()
        await http.post(f"/plans/v1/plans/{plan['id']}:publish")
    async with client_as(plans.runtime, AUDITOR) as http:
        page = (await http.get("/plans/v1/audit", params={"object": f"plan:{plan['id']}"})).json()
        demo = (await http.get("/plans/v1/audit", params={"action": "unit.*", "limit": "500"})).json()
    assert [(e["action"], e["actor"]) for e in page["items"]] == [
        ("plan.published", "admin-binh"),
        ("plan.created", "admin-binh"),
    ]
    [fixture] = {e["actor"] for e in demo["items"]}  # the fixture's registry, made with the tests' admin key
    assert fixture.startswith("key:")
