"""The units registry (bulk import, groups, CRUD) and targets (set, suggested, confirmed)."""

from __future__ import annotations

import json

from tests.support.plans import DEMO, VAN_QUAN, VAN_QUAN_COMMUNES, Plans


async def test_bulk_import_answers_per_record_parents_first_whatever_the_order(plans: Plans):
    records = [
        {
            "code": "000.00.92.H20",
            "name": "UBND xã Mới",
            "level": "commune",
            "parent_code": "000.00.91.H20",
            "aliases": ["Xã Mới"],
        },
        {"code": "000.00.91.H20", "name": "UBND huyện Thử", "level": "district", "valid_to": "2025-06-30"},
        {"code": "000.00.93.H20", "name": "", "level": "hamlet"},
        {"code": "000.00.94.H20", "name": "Xã mồ côi", "level": "commune", "parent_code": "000.00.99.H99"},
        {
            "code": VAN_QUAN,
            "name": "UBND huyện Văn Quan",
            "aliases": ["Văn Quan", "UBND huyện"],
            "level": "district",
            "parent_code": "000.00.00.H20",
            "valid_to": "2025-06-30",
        },
    ]
    answer = await plans.http.post("/plans/v1/units:import", json=records)
    assert answer.status_code == 200
    results = answer.json()
    assert [(r["index"], r["code"], r["outcome"]) for r in results] == [
        (0, "000.00.92.H20", "created"),
        (1, "000.00.91.H20", "created"),
        (2, "000.00.93.H20", "rejected"),
        (3, "000.00.94.H20", "rejected"),
        (4, VAN_QUAN, "unchanged"),
    ]
    assert {e["field"] for e in results[2]["errors"]} == {"name", "level"}
    assert results[3]["errors"] == [{"field": "parent_code", "message": "unknown unit code"}]
    upserted = [e for e in await plans.events("unit.upserted") if e["code"] in ("000.00.91.H20", "000.00.92.H20")]
    assert [(e["code"], e["parent_code"], e["aliases"], e["valid_to"], e["version"]) for e in upserted] == [
        ("000.00.91.H20", None, [], "2025-06-30", 1),
        ("000.00.92.H20", "000.00.91.H20", ["Xã Mới"], None, 1),
    ]
    assert (await plans.http.get("/plans/v1/units/000.00.94.H20")).status_code == 404


async def test_groups_resolve_to_listed_members_and_the_level_rule(plans: Plans):
    group = (await plans.http.get(f"/plans/v1/unit-groups/{VAN_QUAN}.communes")).json()
    assert group["resolved_members"] == VAN_QUAN_COMMUNES
    created = await plans.http.put(
        "/plans/v1/units/000.00.14.H20", json={"name": "UBND xã Mới", "level": "commune", "parent_code": VAN_QUAN}
    )
    assert created.status_code == 200
    group = (await plans.http.get(f"/plans/v1/unit-groups/{VAN_QUAN}.communes")).json()
    assert group["resolved_members"] == [*VAN_QUAN_COMMUNES, "000.00.14.H20"]  # a new commune joins "các xã"

    bad = await plans.http.put(
        "/plans/v1/unit-groups/G", json={"name": "Nhóm", "members": ["000.00.99.H99"], "member_level": "commune"}
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"members", "member_level"}
    assert (await plans.http.delete("/plans/v1/unit-groups/G")).status_code == 404


async def test_a_unit_something_refers_to_cannot_be_deleted_and_a_deletion_is_published(plans: Plans):
    assert (await plans.http.delete(f"/plans/v1/units/{VAN_QUAN}")).status_code == 409
    await plans.http.put("/plans/v1/units/000.00.95.H20", json={"name": "Đơn vị lẻ", "level": "centre"})
    await plans.http.put("/plans/v1/units/000.00.95.H20", json={"name": "Đơn vị lẻ (đổi tên)", "level": "centre"})
    assert (await plans.http.delete("/plans/v1/units/000.00.95.H20")).status_code == 204
    assert (await plans.http.get("/plans/v1/units/000.00.95.H20")).status_code == 404
    assert await plans.events("unit.deleted") == [{"code": "000.00.95.H20", "version": 3}]  # past the last upsert


async def test_import_suggests_targets_an_officer_confirms_and_target_set_is_published(plans: Plans):
    report = await plans.import_seed("000.csv")
    plan_id = report["plan_id"]
    suggested = (await plans.http.get(f"/plans/v1/plans/{plan_id}/targets", params={"status": "suggested"})).json()
    assert len(suggested) == report["targets_suggested"] > 0
    inspection = next(t for t in suggested if t["metric_code"] == "inspection.coverage")
    assert (inspection["operator"], inspection["value"], inspection["unit"]) == (">=", "30.0000", "%")
    assert await plans.events("target.set") == []

    confirmed = await plans.http.post(f"/plans/v1/targets/{inspection['id']}:confirm", json={"version": 1})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    again = await plans.http.post(f"/plans/v1/targets/{inspection['id']}:confirm", json={"version": 2})
    assert again.status_code == 409
    [event] = await plans.events("target.set")
    assert (
        event["target_id"],
        event["issuer_code"],
        event["metric_code"],
        event["operator"],
        event["value"],
        event["period"],
    ) == (
        inspection["id"],
        VAN_QUAN,
        "inspection.coverage",
        ">=",
        "30.0000",
        "2024",
    )


async def test_targets_crud_with_versions(plans: Plans):
    plan = (
        await plans.http.post("/plans/v1/plans", json={"issuer_code": VAN_QUAN, "title": "KH", "year": 2024})
    ).json()
    url = f"/plans/v1/plans/{plan['id']}/targets"
    body = {
        "metric_code": "dossiers.on_time_rate",
        "operator": ">",
        "value": "99.9",
        "strict": True,
        "level": "district",
        "period": "2024",
    }
    created = await plans.http.post(url, json=body)
    assert created.status_code == 201
    target = created.json()
    changed = await plans.http.put(f"/plans/v1/targets/{target['id']}", json={**body, "value": "99.5", "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = await plans.http.put(f"/plans/v1/targets/{target['id']}", json={**body, "version": 1})
    assert stale.status_code == 409
    elsewhere = await plans.http.post(url, json={**body, "node_id": 999999})
    assert elsewhere.status_code == 400 and elsewhere.json()["errors"][0]["field"] == "node_id"
    events = await plans.events("target.set")
    assert [(e["value"], e["strict"], e["level"], e["version"]) for e in events] == [
        ("99.9000", True, "district", 1),
        ("99.5000", True, "district", 2),
    ]
    assert (await plans.http.delete(f"/plans/v1/targets/{target['id']}")).status_code == 204
    assert (await plans.http.get(url)).json() == []


async def test_publishing_announces_the_counts_and_only_a_draft_can_be_published(plans: Plans):
    report = await plans.import_seed("003.csv", issuer="000.00.10.H24", number="88/KH-UBND")
    published = await plans.http.post(f"/plans/v1/plans/{report['plan_id']}:publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert (await plans.http.post(f"/plans/v1/plans/{report['plan_id']}:publish")).status_code == 409
    [event] = await plans.events("plan.published")
    assert (event["plan_id"], event["issuer_code"], event["number"], event["year"]) == (
        report["plan_id"],
        "000.00.10.H24",
        "88/KH-UBND",
        2024,
    )
    assert event["counts"]["tasks"] == report["tasks_created"]
    assert event["counts"]["obligations"] == report["obligations_created"]
    closed = await plans.http.post(f"/plans/v1/plans/{report['plan_id']}:close")
    assert closed.json()["status"] == "closed"
    listed = (
        await plans.http.get("/plans/v1/plans", params={"status": "closed", "issuer_code": "000.00.10.H24"})
    ).json()
    assert [p["id"] for p in listed["items"]] == [report["plan_id"]]


async def test_patch_changes_only_the_fields_sent_and_put_says_it_replaces(plans: Plans):
    code = "000.00.12.H42"  # a demo commune of Cẩm Xuyên, in its commune group
    before = (await plans.http.get(f"/plans/v1/units/{code}")).json()
    patched = await plans.http.patch(f"/plans/v1/units/{code}", json={"name": "UBND xã Cẩm Quang (mới)"})
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["name"] == "UBND xã Cẩm Quang (mới)" and after["version"] == before["version"] + 1
    assert {k: after[k] for k in ("parent_code", "aliases", "level")} == {
        k: before[k] for k in ("parent_code", "aliases", "level")
    }
    group = (await plans.http.get("/plans/v1/unit-groups/000.00.10.H42.communes")).json()
    assert code in group["resolved_members"]
    cleared = (await plans.http.patch(f"/plans/v1/units/{code}", json={"aliases": [], "valid_to": "2025-06-30"})).json()
    assert (cleared["aliases"], cleared["valid_to"], cleared["parent_code"]) == (
        [],
        "2025-06-30",
        before["parent_code"],
    )
    assert (await plans.http.patch("/plans/v1/units/000.00.99.H42", json={"name": "Xã"})).status_code == 404
    bad = await plans.http.patch(f"/plans/v1/units/{code}", json={"valid_from": "2026-01-01"})  # after valid_to
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "valid_to"
    spec = (await plans.http.get("/plans/openapi.json")).json()["paths"]["/v1/units/{code}"]
    assert "replaces" in spec["put"]["description"].lower() and "patch" in spec


async def test_units_and_groups_are_listed_in_pages(plans: Plans):
    everything: list[str] = []
    cursor = None
    while True:
        page = (
            await plans.http.get("/plans/v1/units", params={"limit": 7, **({"cursor": cursor} if cursor else {})})
        ).json()
        assert len(page["items"]) <= 7
        everything += [u["code"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    demo = json.loads((DEMO / "demo_units.json").read_text(encoding="utf-8"))
    assert everything == sorted(u["code"] for u in demo)  # each once, in code order
    first = (await plans.http.get("/plans/v1/unit-groups", params={"limit": 2})).json()
    second = (await plans.http.get("/plans/v1/unit-groups", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert len(first["items"]) == len(second["items"]) == 2 and first["items"][-1]["code"] < second["items"][0]["code"]
    assert (await plans.http.get("/plans/v1/units", params={"cursor": "nope"})).status_code == 400


async def test_graphql_units_and_groups_come_in_pages_after_a_code(plans: Plans):
    async def query(text: str) -> dict:
        return (await plans.http.post("/graphql", json={"query": text})).json()

    everything: list[str] = []
    after = ""
    while True:
        page = (await query("{ units(first: 7%s) { code } }" % after))["data"]["units"]
        everything += [u["code"] for u in page]
        if len(page) < 7:
            break
        after = f', after: "{page[-1]["code"]}"'
    demo = json.loads((DEMO / "demo_units.json").read_text(encoding="utf-8"))
    assert everything == sorted(u["code"] for u in demo) and len(everything) > 7  # each once, in code order
    first = (await query("{ unitGroups(first: 2) { code } }"))["data"]["unitGroups"]
    second = (await query('{ unitGroups(first: 2, after: "%s") { code } }' % first[-1]["code"]))["data"]["unitGroups"]
    assert len(first) == len(second) == 2 and first[-1]["code"] < second[0]["code"]
    for field in ("units", "unitGroups"):
        [error] = (await query("{ %s(first: 501) { code } }" % field))["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["errors"][0]["field"] == "first"
