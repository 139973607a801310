"""GraphQL mutations of what was REST-only: importing an appendix (multipart upload), adding and
changing nodes, targets, progress per occurrence; refusals as coded errors with their fields."""

from __future__ import annotations

import json

from tests.support.plans import SEEDS, VAN_QUAN, VAN_QUAN_HOME_AFFAIRS, Plans, csv_bytes

IMPORT = """mutation($file: Upload!, $year: Int!, $number: String) {
  importPlan(file: $file, issuer: "Văn Quan", year: $year, number: $number) {
    planId unchanged rowsRead rowsAdded rowsChanged rowsRemoved tasksCreated schedules { typed triggered unparsed } units { matched unmatched } } }"""
ADD_NODE = """mutation($plan: Int!, $input: NodeInput!) { addNode(planId: $plan, input: $input) {
  id kind title dues implementsId obligations { id unitCode due occurrences { id due version } } } }"""
CHANGE_NODE = (
    """mutation($node: Int!, $input: NodeUpdateInput!) { changeNode(nodeId: $node, input: $input) { id dues } }"""
)
SET_TARGET = """mutation($plan: Int!, $input: TargetInput!) { setTarget(planId: $plan, input: $input) {
  id status metricCode operator value strict version } }"""
UPDATE_TARGET = """mutation($id: Int!, $version: Int!, $input: TargetInput!) { updateTarget(targetId: $id, version: $version, input: $input) {
  value version status } }"""
REPORT = """mutation($id: Int!, $input: ProgressInput!) { reportOccurrenceProgress(occurrenceId: $id, input: $input) {
  status doneOn onTime version } }"""


async def gql(plans: Plans, query: str, **variables) -> dict:
    answer = await plans.http.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def upload(plans: Plans, data: bytes, name: str, *, preflight: bool = True, **variables):
    operations = {"query": IMPORT, "variables": {"file": None, "year": 2024, **variables}}
    return await plans.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, data, "text/csv")},
        headers={"Apollo-Require-Preflight": "true"} if preflight else {},
    )


def error(answer: dict) -> tuple[str, list[str]]:
    [first] = answer["errors"]
    return first["extensions"]["code"], [e.get("field") for e in first["extensions"].get("errors", [])]


async def test_an_appendix_is_imported_through_a_multipart_upload(plans: Plans):
    seed = (SEEDS / "000.csv").read_bytes()
    answer = await upload(plans, seed, "000.csv", number="183/KH-UBND")
    assert answer.status_code == 200, answer.text
    report = answer.json()["data"]["importPlan"]
    assert (report["unchanged"], report["rowsRead"], report["schedules"]) == (
        False,
        100,
        {"typed": 72, "triggered": 5, "unparsed": 0},
    )
    assert "Lãnh đạo UBND huyện" in report["units"]["unmatched"]
    again = (await upload(plans, seed, "000.csv", number="183/KH-UBND")).json()["data"]["importPlan"]
    assert (again["planId"], again["unchanged"]) == (report["planId"], True)
    assert (report["rowsAdded"], report["rowsChanged"], report["rowsRemoved"]) == (100, 0, 0)
    assert (again["rowsAdded"], again["rowsChanged"], again["rowsRemoved"]) == (0, 0, 0)

    refused = await upload(plans, seed, "000.csv", preflight=False)
    assert refused.status_code == 400  # a cross-site form cannot post a mutation
    missing = (await upload(plans, csv_bytes([["STT", "Nhiệm vụ"], ["1", "Rà soát"]]), "x.csv", number="9/KH")).json()
    assert error(missing) == ("MISSING_COLUMNS", ["file"])
    assert missing["errors"][0]["extensions"]["headers_found"] == ["STT", "Nhiệm vụ"]
    bad_year = (await upload(plans, seed, "000.csv", year=1990)).json()
    assert error(bad_year) == ("INVALID_INPUT", ["year"])


async def test_nodes_are_added_and_moved_with_the_cascade_and_its_refusals(plans: Plans):
    province = (
        await plans.http.post(
            "/plans/v1/plans", json={"issuer_code": "000.00.00.H20", "title": "KH tỉnh", "year": 2024}
        )
    ).json()
    district = (
        await plans.http.post(
            "/plans/v1/plans",
            json={"issuer_code": VAN_QUAN, "title": "KH huyện", "year": 2024, "parent_id": province["id"]},
        )
    ).json()
    area = (await gql(plans, ADD_NODE, plan=province["id"], input={"kind": "area", "title": "Chỉ đạo"}))["data"][
        "addNode"
    ]
    parent = (
        await gql(
            plans,
            ADD_NODE,
            plan=province["id"],
            input={"kind": "task", "parentId": area["id"], "title": "Ban hành KH", "schedule": "Trước 15/01/2024"},
        )
    )["data"]["addNode"]
    district_area = (await gql(plans, ADD_NODE, plan=district["id"], input={"kind": "area", "title": "Chỉ đạo"}))[
        "data"
    ]["addNode"]
    child_input = {
        "kind": "task",
        "parentId": district_area["id"],
        "title": "Ban hành KH",
        "lead": "Phòng Nội vụ",
        "implementsId": parent["id"],
    }
    child = (await gql(plans, ADD_NODE, plan=district["id"], input=child_input))["data"]["addNode"]
    assert (child["implementsId"], child["dues"]) == (parent["id"], ["2024-01-15"])
    [obligation] = child["obligations"]
    assert (obligation["unitCode"], [o["due"] for o in obligation["occurrences"]]) == (
        VAN_QUAN_HOME_AFFAIRS,
        ["2024-01-15"],
    )

    later = await gql(plans, ADD_NODE, plan=district["id"], input={**child_input, "schedule": "Trước 31/03/2024"})
    assert error(later) == ("DEADLINE_AFTER_PARENT", ["schedule"])
    weightless = await gql(plans, ADD_NODE, plan=district["id"], input={**child_input, "weight": 0})
    assert error(weightless) == ("INVALID_INPUT", ["weight"])

    moved = await gql(plans, CHANGE_NODE, node=parent["id"], input={"schedule": "Trước 31/01/2024"})
    assert moved["data"]["changeNode"]["dues"] == ["2024-01-31"]
    tree = (await plans.http.get(f"/plans/v1/plans/{district['id']}/tree")).json()
    assert tree["areas"][0]["children"][0]["dues"] == ["2024-01-31"]
    unknown = await gql(plans, CHANGE_NODE, node=999999, input={"schedule": "Quý I/2024"})
    assert error(unknown)[0] == "NOT_FOUND"

    occurrence = obligation["occurrences"][0]
    done = await gql(plans, REPORT, id=occurrence["id"], input={"version": occurrence["version"], "status": "done"})
    assert done["data"]["reportOccurrenceProgress"]["status"] == "done"
    stale = await gql(plans, REPORT, id=occurrence["id"], input={"version": occurrence["version"], "percent": 10})
    assert error(stale) == ("CONFLICT", ["version"])


async def test_targets_are_set_changed_and_confirmed_with_coded_field_errors(plans: Plans):
    plan = (
        await plans.http.post("/plans/v1/plans", json={"issuer_code": VAN_QUAN, "title": "KH", "year": 2024})
    ).json()
    body = {"metricCode": "dossiers.on_time_rate", "operator": "gt", "value": "99.9", "strict": True, "period": "2024"}
    target = (await gql(plans, SET_TARGET, plan=plan["id"], input=body))["data"]["setTarget"]
    assert (target["status"], target["operator"], target["value"], target["version"]) == (
        "confirmed",
        "gt",
        "99.9000",
        1,
    )

    changed = await gql(plans, UPDATE_TARGET, id=target["id"], version=1, input={**body, "value": "99.5"})
    assert changed["data"]["updateTarget"] == {"value": "99.5000", "version": 2, "status": "confirmed"}
    stale = await gql(plans, UPDATE_TARGET, id=target["id"], version=1, input=body)
    assert error(stale) == ("CONFLICT", ["version"])
    elsewhere = await gql(plans, SET_TARGET, plan=plan["id"], input={**body, "nodeId": 999999})
    assert error(elsewhere) == ("DOMAIN_ERROR", ["node_id"])
    blank = await gql(plans, SET_TARGET, plan=plan["id"], input={**body, "metricCode": ""})
    assert error(blank) == ("INVALID_INPUT", ["metric_code"])
    assert [e["value"] for e in await plans.events("target.set")] == ["99.9000", "99.5000"]

    report = await plans.import_seed("000.csv")
    suggestion = next(
        t
        for t in (await plans.http.get(f"/plans/v1/plans/{report['plan_id']}/targets")).json()
        if t["metric_code"] is None
    )
    unnamed = await gql(
        plans, "mutation($id: Int!) { confirmTarget(targetId: $id, version: 1) { status } }", id=suggestion["id"]
    )
    assert error(unnamed) == ("DOMAIN_ERROR", ["metric_code"])
    named = await gql(
        plans,
        UPDATE_TARGET,
        id=suggestion["id"],
        version=1,
        input={**body, "nodeId": suggestion["node_id"], "metricCode": "inspection.coverage"},
    )
    assert named["data"]["updateTarget"]["status"] == "suggested"
    confirmed = await gql(
        plans, "mutation($id: Int!) { confirmTarget(targetId: $id, version: 2) { status } }", id=suggestion["id"]
    )
    assert confirmed["data"]["confirmTarget"] == {"status": "confirmed"}


async def test_patch_unit_changes_only_the_fields_given(plans: Plans):
    query = "mutation($c: String!, $i: UnitPatchInput!) { patchUnit(code: $c, input: $i) { name parentCode aliases version } }"
    body = await gql(plans, query, c="000.00.12.H42", i={"name": "UBND xã Cẩm Quang (mới)"})
    assert body["data"]["patchUnit"] == {
        "name": "UBND xã Cẩm Quang (mới)",
        "parentCode": "000.00.10.H42",
        "aliases": ["Cẩm Quang", "xã Cẩm Quang"],
        "version": 2,
    }
    refused = await gql(plans, query, c="bad code", i={"name": None})
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert {e["field"] for e in refused["errors"][0]["extensions"]["errors"]} == {"code", "name"}
