"""Out-of-range values and malformed codes in the plans API: a 422/404 naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.support.plans import VAN_QUAN, Plans, plan_with_task

TOO_BIG = 2**63


def fields(answer) -> list[str]:
    assert answer.status_code == 422, (answer.status_code, answer.text)
    return [e["field"] for e in answer.json()["errors"]]


async def a_plan(plans: Plans) -> dict:
    answer = await plans.http.post("/plans/v1/plans", json={"issuer_code": VAN_QUAN, "title": "KH", "year": 2024})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize(
    "path",
    [
        f"/plans/v1/occurrences/{TOO_BIG}",
        f"/plans/v1/obligations/{TOO_BIG}",
        f"/plans/v1/plans/{TOO_BIG}",
        "/plans/v1/plans/0",
    ],
)
async def test_ids_beyond_64_bits_in_paths_name_the_field(plans: Plans, path: str):
    assert len(fields(await plans.http.get(path))) == 1


async def test_ids_and_numbers_out_of_range_in_bodies_and_queries_name_the_field(plans: Plans):
    plan = await a_plan(plans)
    nodes = f"/plans/v1/plans/{plan['id']}/nodes"
    assert fields(await plans.http.post(nodes, json={"kind": "area", "title": "A", "implements_id": TOO_BIG})) == [
        "body.implements_id"
    ]
    assert fields(await plans.http.post(nodes, json={"kind": "area", "title": "A", "parent_id": TOO_BIG})) == [
        "body.parent_id"
    ]
    target = {"metric_code": "tthc.on_time_rate", "operator": ">=", "value": 1e33, "period": "2024"}
    assert fields(await plans.http.post(f"/plans/v1/plans/{plan['id']}/targets", json=target)) == ["body.value"]
    assert fields(await plans.http.get("/plans/v1/plans", params={"parent_id": TOO_BIG})) == ["query.parent_id"]
    assert fields(await plans.http.get("/plans/v1/tasks", params={"q": "kế hoạch", "plan_id": TOO_BIG})) == [
        "query.plan_id"
    ]
    ok = await plans.http.post(f"/plans/v1/plans/{plan['id']}/targets", json={**target, "value": 99.5})
    assert ok.status_code == 201  # the control: an ordinary target is set


@pytest.mark.parametrize(
    "query", ["{ plans(first: -1) { nextCursor } }", '{ searchTasks(q: "kế hoạch", first: -1) { nextCursor } }']
)
async def test_graphql_pages_of_negative_size_are_refused_with_the_argument(plans: Plans, query: str):
    body = (await plans.http.post("/graphql", json={"query": query})).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["errors"][0]["field"] == "first"


@pytest.mark.parametrize("code", ["a..b", "%25", "%00", "x" * 300, "a b", "000.00.12.h42"])
async def test_unit_codes_off_the_national_pattern_are_refused(plans: Plans, code: str):
    answer = await plans.http.put(f"/plans/v1/units/{code}", json={"name": "UBND xã", "level": "commune"})
    assert fields(answer) == ["path.code"]


async def test_unit_records_with_bad_codes_or_control_characters_are_rejected_alone(plans: Plans):
    records = [
        {"code": "", "name": "UBND xã", "level": "commune"},
        {"code": "..", "name": "UBND xã", "level": "commune"},
        {"code": "000.00.99.H42", "name": "UBND xã \u202eMới", "level": "commune"},
        {"code": "000.00.98.H42", "name": "UBND xã Mới", "level": "commune", "parent_code": "%"},
        {"code": "000.00.97.H42", "name": "UBND xã Mới", "level": "commune", "parent_code": "000.00.10.H42"},
    ]
    results = (await plans.http.post("/plans/v1/units:import", json=records)).json()
    assert [(r["outcome"], [e["field"] for e in r["errors"]]) for r in results] == [
        ("rejected", ["code"]),
        ("rejected", ["code"]),
        ("rejected", ["name"]),
        ("rejected", ["parent_code"]),
        ("created", []),
    ]
    assert fields(await plans.http.put("/plans/v1/unit-groups/a..b", json={"name": "Nhóm"})) == ["path.code"]


async def test_search_words_with_quotes_and_wildcards_match_only_themselves(plans: Plans):
    """The words are written into the statement (services/plans/queries.py, _containing): quotes,
    ``%``, ``_``, ``/`` and backslashes in them are text to find, not SQL or patterns."""
    odd = await plan_with_task(plans, "Năm 2024", title="Báo cáo 50% quý I_2024 o'clock a/b c\\d", publish=False)
    plain = await plan_with_task(plans, "Năm 2024", title="Báo cáo 50 quý I 2024 o clock a b c d", publish=False)

    async def found(q: str) -> list[int]:
        answer = await plans.http.get("/plans/v1/tasks", params={"q": q})
        assert answer.status_code == 200, answer.text
        return [hit["id"] for hit in answer.json()["items"]]

    for word in ("50%", "i_2024", "o'clock", "a/b", "c\\d"):
        assert await found(word) == [odd["id"]], word
    assert await found("bao cao") == [odd["id"], plain["id"]]  # the control: both hold these words
    assert await found("'; delete from plan_nodes; --") == []
    assert await found("bao cao") == [odd["id"], plain["id"]]
