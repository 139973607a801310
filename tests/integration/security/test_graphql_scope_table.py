"""Every GraphQL root query field a unit officer may call, on the merged ``/graphql`` and on its
service's own ``/<service>/graphql``, asked about commune B's objects by commune A's officer: a
``NOT_FOUND`` error on the field, or data holding nothing of B (its unit code, dossier, people,
plan, task, contact), nested objects included (a dossier's applicant, a plan's tasks, obligations
and occurrences, a letter's dossier, a delivery's address; in a plan A and B both owe, B's
obligations). An administrator asking the same gets B's data: the positive control of each row.
The fields come from the schemas the endpoints serve (introspection) and their access rules, so a
new root field fails here until it is given its queries about B. (The REST routes are in
test_scope_table.py; mutations in test_unit_scope.py and test_plans_scope.py.)"""

from __future__ import annotations

import json
from typing import Any

from services.catalog import definitions
from shared.access import AccessTable, allows
from tests.integration.security.conftest import (
    DATA,
    FOUND,
    KEY_B,
    MARKERS_B,
    PROVINCE,
    SHARED,
    A,
    B,
    Province,
    eventually,
    objects_of_b,
    provincial_plan,
)
from tests.support.principals import admin, officer

OFFICER_A = officer(A)
MERGED = "/graphql"
SCHEMA = "{ __schema { queryType { fields { name } } } }"

DOSSIER = """maHoSo unit agency summary applicantName applicantIdNumber applicantEmail applicantPhone
    applicantAddress statusHistory { actor note } apology extra"""
LETTER = "id maHoSo unit number reason pdfPath"
# a task's own text (leadRaw, coordinatingRaw) names the units it binds, and every one of them reads it
PLAN = """id issuerCode title targets { metricCode planId }
    areas { title children { title obligations { unitCode groupCode occurrences { unitCode } } } }"""
OWED = "items { planTitle nodeTitle obligation { unitCode } occurrence { unitCode } }"


def endpoints() -> dict[str, AccessTable]:
    """Every GraphQL endpoint the root app serves, with the root fields' rules it enforces."""
    services = [d for d in definitions() if d.graphql_query is not None]
    merged = AccessTable(queries={k: v for d in services for k, v in d.access.queries.items()})
    return {MERGED: merged, **{f"/{d.name}/graphql": d.access for d in services}}


async def officer_fields(province: Province) -> dict[str, list[str]]:
    """Each root query field a unit officer may call (the schema an endpoint serves, by
    introspection, and its access rules) → the endpoints that serve it."""
    found: dict[str, list[str]] = {}
    for endpoint, access in endpoints().items():
        answer = await province.graphql(SCHEMA, OFFICER_A, endpoint=endpoint)
        for field in answer["data"]["__schema"]["queryType"]["fields"]:
            if allows(OFFICER_A, access.queries.get(field["name"])):
                found.setdefault(field["name"], []).append(endpoint)
    return found


def queries_about_b(ids: dict[str, Any]) -> dict[str, Any]:
    """Root field → SHARED, or the queries naming B's objects: (query, variables, what the admin gets)."""
    year = '"2024"'
    by_unit = f"query($u: String) {{ dossiers(where: {{unit: $u}}) {{ items {{ {DOSSIER} }} }} }}"
    return {
        "dossiersStatus": SHARED,
        "plansStatus": SHARED,
        "scoringStatus": SHARED,
        "notificationsStatus": SHARED,
        "indicatorCatalogue": SHARED,
        "dossier": [(f"query($k: String!) {{ dossier(maHoSo: $k) {{ {DOSSIER} }} }}", {"k": KEY_B}, DATA)],
        "dossiers": [
            (f"{{ dossiers {{ items {{ {DOSSIER} }} }} }}", {}, DATA),
            (by_unit, {"u": B}, DATA),
            (by_unit, {"u": PROVINCE}, DATA),  # a filter on an ancestor: the part in scope
        ],
        "officeHours": [("query($u: String!) { officeHours(unit: $u) { unit setOn windows } }", {"u": B}, DATA)],
        "letters": [(f"query($k: String!) {{ letters(dossier: $k) {{ {LETTER} }} }}", {"k": KEY_B}, DATA)],
        "letter": [(f"query($id: ID!) {{ letter(id: $id) {{ {LETTER} }} }}", {"id": ids["letter"]["id"]}, DATA)],
        "letterPrintQueue": [
            (f"{{ letterPrintQueue {{ {LETTER} }} }}", {}, DATA),
            (f"query($u: String) {{ letterPrintQueue(unit: $u) {{ {LETTER} }} }}", {"u": B}, DATA),
        ],
        "deliveries": [
            ("{ deliveries { id unitCode to subject refKind refId } }", {}, DATA),
            ("query($u: String) { deliveries(unit: $u) { id unitCode to subject } }", {"u": B}, DATA),
        ],
        "deliveryAttempts": [
            (
                "query($id: Int!) { deliveryAttempts(deliveryId: $id) { number outcome error } }",
                {"id": ids["delivery"]},
                FOUND,
            )
        ],
        "contacts": [
            ("query($u: String!) { contacts(unitCode: $u) { id unitCode name email phone } }", {"u": B}, DATA)
        ],
        "recipients": [("{ recipients { unitCode name parentCode } }", {}, DATA)],
        "units": [
            ("{ units { code name parentCode } }", {}, DATA),
            ("query($p: String) { units(parentCode: $p) { code name } }", {"p": PROVINCE}, DATA),
        ],
        "unit": [("query($c: String!) { unit(code: $c) { code name } }", {"c": B}, DATA)],
        "unitGroups": [
            ("{ unitGroups { code name ownerCode members resolvedMembers } }", {}, DATA),
            ("query($o: String) { unitGroups(ownerCode: $o) { code name ownerCode } }", {"o": B}, DATA),
        ],
        "plans": [
            (f"{{ plans {{ items {{ {PLAN} }} }} }}", {}, DATA),
            (f"query($i: String) {{ plans(issuerCode: $i) {{ items {{ {PLAN} }} }} }}", {"i": B}, DATA),
        ],
        "plan": [
            (f"query($id: Int!) {{ plan(id: $id) {{ {PLAN} }} }}", {"id": ids["plan"]}, DATA),
            # the province's plan A and B both owe a task of: A reads it, and in it only its own obligation
            (f"query($id: Int!) {{ plan(id: $id) {{ {PLAN} }} }}", {"id": ids["shared_plan"]}, DATA),
        ],
        "unitObligations": [
            (
                f'query($u: String!) {{ unitObligations(unitCode: $u, from: "2024-01-01", to: "2024-12-31") {{ {OWED} }} }}',
                {"u": B},
                DATA,
            )
        ],
        "overdueObligations": [
            (f"query($u: String!) {{ overdueObligations(unitCode: $u) {{ {OWED} }} }}", {"u": B}, DATA)
        ],
        "searchTasks": [
            ('{ searchTasks(q: "thủ tục riêng") { items { id planId title } } }', {}, DATA),
            (
                'query($p: Int) { searchTasks(q: "thủ tục riêng", planId: $p) { items { title } } }',
                {"p": ids["plan"]},
                DATA,
            ),
        ],
        # the figures of B, and of the province (which hold B's): 404 for A's officer
        **{
            field: [(query, {"u": B}, DATA), (query, {"u": PROVINCE}, FOUND)]
            for field, query in (
                (
                    "indicators",
                    f"query($u: String!) {{ indicators(unit: $u, period: {year}) {{ unit items {{ code value }} }} }}",
                ),
                (
                    "indicatorSeries",
                    'query($u: String!) { indicatorSeries(unit: $u, code: "dossiers.received", start: "2024-01", '
                    'end: "2024-06") { unit points { period value } } }',
                ),
                (
                    "scorecard",
                    f"query($u: String!) {{ scorecard(unit: $u, period: {year}) {{ unit total {{ points }} "
                    "groups { code points items { code points } } } }",
                ),
                (
                    "scoringTargets",
                    f"query($u: String!) {{ scoringTargets(unit: $u, period: {year}) "
                    "{ unit items { issuer planId code } } }",
                ),
            )
        },
        "rankings": [
            (
                f'{{ rankings(level: "commune", period: {year}, code: "dossiers.received") '
                "{ count items { rank unit name value } } }",
                {},
                DATA,
            ),
            (
                f'query($p: String) {{ rankings(level: "commune", period: {year}, parent: $p) '
                "{ items { unit name } } }",
                {"p": PROVINCE},
                DATA,
            ),
        ],
    }


def marks_of_b(data: Any) -> list[str]:
    text = json.dumps(data, ensure_ascii=False)
    return [mark for mark in MARKERS_B if mark in text]


def empty(value: Any) -> bool:
    """Nothing in it: null, an empty list, or an object of empty values (a page without items)."""
    if isinstance(value, dict):
        return all(empty(v) for v in value.values())
    return value is None or value == []


def not_found(error: dict[str, Any]) -> bool:
    """A root field's ``NOT_FOUND``. One in a nested field means its parent reached an object out of
    scope (and the null it spreads upwards would hide what the parent leaked in its other fields)."""
    return error.get("extensions", {}).get("code") == "NOT_FOUND" and len(error.get("path") or ()) == 1


async def test_a_communes_officer_gets_nothing_of_another_commune_from_any_graphql_field(province: Province):
    ids = {**await objects_of_b(province), "shared_plan": (await provincial_plan(province))[0]}
    attempts = "query($id: Int!) { deliveryAttempts(deliveryId: $id) { number } }"
    await eventually(lambda: _answered(province, attempts, id=ids["delivery"]))  # B's delivery has been tried
    table = queries_about_b(ids)
    fields = await officer_fields(province)
    unmatched = sorted(set(table) ^ set(fields))
    assert not unmatched, f"root query fields without their queries about B (or SHARED), or gone: {unmatched}"
    problems = []
    for field, requests in table.items():
        if requests == SHARED:
            continue
        for endpoint in fields[field]:
            for query, variables, expected in requests:
                where = f"{endpoint} {field} {variables}"
                whole = await province.graphql(query, admin(), endpoint=endpoint, **variables)
                data = whole.get("data")
                if "errors" in whole or empty(data) or (expected == DATA and not marks_of_b(data)):
                    problems.append(f"positive control: admin {where} {json.dumps(whole, ensure_ascii=False)[:300]}")
                theirs = await province.graphql(query, OFFICER_A, endpoint=endpoint, **variables)
                data = theirs.get("data")
                refused = [error for error in theirs.get("errors", []) if not not_found(error)]
                if refused or marks_of_b(data) or (expected == FOUND and not empty(data)):
                    problems.append(f"A's officer: {where} {json.dumps(theirs, ensure_ascii=False)[:300]}")
    assert not problems, "\n".join(problems)


async def _answered(province: Province, query: str, **variables: Any) -> bool:
    return not empty((await province.graphql(query, admin(), **variables)).get("data"))
