"""Plans in a unit's scope: a commune sees the plans it issued or owes tasks of, in them only its own
obligations (and their progress), never another commune's; the province that issued a plan sees
all of it; a plan one only owes is read, not changed."""

from __future__ import annotations

from tests.integration.security.conftest import PROVINCE, A, B, Province, provincial_plan
from tests.support.principals import officer

OFFICER_A, OFFICER_B, PROVINCIAL = officer(A), officer(B), officer(PROVINCE)


async def communes_own_plan(province: Province) -> int:
    """A plan commune B issued for itself (A owes nothing in it); its id."""
    own = await province.ok(
        "POST", "/plans/v1/plans", OFFICER_B, json={"issuer_code": B, "year": 2024, "title": "Kế hoạch của xã"}
    )
    return int(own["id"])


async def test_a_commune_issues_plans_only_in_its_own_name(start):
    province = await start()
    other = {"issuer_code": B, "year": 2024, "title": "x"}
    assert (await province.call("POST", "/plans/v1/plans", OFFICER_A, json=other)).status_code == 404
    assert await communes_own_plan(province)  # B may issue it


async def test_a_commune_lists_the_plans_it_owes_or_issued_and_never_reads_anothers(start):
    province = await start()
    plan_id, _ = await provincial_plan(province)
    own = await communes_own_plan(province)
    listed = [p["id"] for p in (await province.ok("GET", "/plans/v1/plans", OFFICER_A))["items"]]
    assert listed == [plan_id]  # the province's plan it owes a task of; not B's own plan
    assert sorted(p["id"] for p in (await province.ok("GET", "/plans/v1/plans", OFFICER_B))["items"]) == sorted(
        [plan_id, own]
    )
    assert (await province.get(f"/plans/v1/plans/{own}", OFFICER_A)).status_code == 404
    assert (await province.get(f"/plans/v1/plans/{own}/tree", OFFICER_A)).status_code == 404
    assert (await province.call("POST", f"/plans/v1/plans/{own}:publish", OFFICER_A)).status_code == 404
    hits = (await province.ok("GET", "/plans/v1/tasks", OFFICER_A, params={"q": "rà soát"}))["items"]
    assert [h["plan_id"] for h in hits] == [plan_id]


async def test_in_a_plan_it_owes_a_commune_reads_and_reports_only_its_own_obligations(start):
    province = await start()
    plan_id, obligations = await provincial_plan(province)
    tree = await province.ok("GET", f"/plans/v1/plans/{plan_id}/tree", OFFICER_A)
    assert [o["unit_code"] for o in tree["areas"][0]["children"][0]["obligations"]] == [A]
    assert (await province.get(f"/plans/v1/obligations/{obligations[B]}", OFFICER_A)).status_code == 404
    assert (await province.get(f"/plans/v1/obligations/{obligations[A]}", OFFICER_A)).status_code == 200
    assert (await province.get(f"/plans/v1/obligations/{obligations[B]}/occurrences", OFFICER_A)).status_code == 404
    report = {"version": 1, "status": "in_progress", "percent": 50}
    assert (
        await province.call("PATCH", f"/plans/v1/obligations/{obligations[B]}", OFFICER_A, json=report)
    ).status_code == 404
    assert (
        await province.call("PATCH", f"/plans/v1/obligations/{obligations[A]}", OFFICER_A, json=report)
    ).status_code == 200
    assert (
        await province.get(f"/plans/v1/units/{B}/obligations", OFFICER_A, **{"from": "2024-01-01", "to": "2024-12-31"})
    ).status_code == 404
    owed = await province.ok(
        "GET", f"/plans/v1/units/{A}/obligations", OFFICER_A, params={"from": "2024-01-01", "to": "2024-12-31"}
    )
    assert [i["obligation"]["unit_code"] for i in owed["items"]] == [A]


async def test_a_plan_a_commune_only_owes_is_not_its_to_change(start):
    province = await start()
    plan_id, _ = await provincial_plan(province)
    node = {"kind": "task", "title": "Nhiệm vụ thêm"}
    changed = await province.call("POST", f"/plans/v1/plans/{plan_id}/nodes", OFFICER_A, json=node)
    assert changed.status_code == 403 and changed.json()["code"] == "forbidden"  # seen, not the commune's to change
    added = await province.call("POST", f"/plans/v1/plans/{plan_id}/nodes", PROVINCIAL, json=node)
    assert added.status_code == 201, added.text  # the issuer may


async def test_graphql_keeps_a_commune_to_its_own_obligations_and_plans(start):
    province = await start()
    plan_id, obligations = await provincial_plan(province)
    own = await communes_own_plan(province)
    query = """query($id: Int!) { plan(id: $id) { id areas { children { obligations { unitCode
               occurrences { unitCode } } } } } plans { items { id } } }"""
    seen = await province.graphql(query, OFFICER_A, id=plan_id)
    [task] = seen["data"]["plan"]["areas"][0]["children"]
    assert [o["unitCode"] for o in task["obligations"]] == [A]
    assert [o["unitCode"] for o in task["obligations"][0]["occurrences"]] == [A]
    assert seen["data"]["plans"]["items"] == [{"id": plan_id}]
    assert (await province.graphql(query, OFFICER_A, id=own))["data"]["plan"] is None
    whole = await province.graphql(query, PROVINCIAL, id=plan_id)
    assert sorted(o["unitCode"] for o in whole["data"]["plan"]["areas"][0]["children"][0]["obligations"]) == [A, B]
    mutation = "mutation($id: Int!) { reportProgress(obligationId: $id, input: {version: 1, percent: 60}) { percent } }"
    refused = await province.graphql(mutation, OFFICER_A, id=obligations[B])
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
