"""Every GET route a unit officer may call, in every service, asked about commune B's objects by
commune A's officer: a 404, or an answer holding nothing of B (its unit code, dossier, people,
plan, contact). An administrator asking the same gets B's data: the positive control of each row.
The table names every such route, so a new one fails here until it is given its requests about B.
(GraphQL's root fields are in test_graphql_scope_table.py, the writes in test_unit_scope.py and
test_plans_scope.py.)"""

from __future__ import annotations

from typing import Any

import httpx

from services.catalog import definitions
from shared.access import ALLOWED
from shared.auth import UNIT_OFFICER
from tests.integration.security.conftest import DATA, FOUND, KEY_B, MARKERS_B, SHARED, A, B, Province, objects_of_b
from tests.support.principals import admin, officer

OFFICER_A = officer(A)
YEAR = {"period": "2024"}


def officer_routes() -> set[str]:
    """``/<service><path>`` of every GET route a unit officer is allowed."""
    return {
        f"/{d.name}{path}"
        for d in definitions()
        for (method, path), access in d.access.routes.items()
        if method == "GET" and UNIT_OFFICER in ALLOWED[access]
    }


def requests_about_b(ids: dict[str, Any]) -> dict[str, Any]:
    """Route → SHARED, or the requests naming B's objects: (URL, query, what the admin gets)."""
    plan, letter = ids["plan"], ids["letter"]["id"]
    months = {"from": "2024-01", "to": "2024-06"}
    return {
        "/dossiers/v1/calendar/days": SHARED,
        "/dossiers/v1/procedures": SHARED,
        "/dossiers/v1/procedures/{ma_tthc}": SHARED,
        "/notifications/v1/letter-settings:default": SHARED,
        "/scoring/v1/catalogue": SHARED,
        "/dossiers/v1/calendar/due": [
            (
                "/dossiers/v1/calendar/due",
                {"start": "2024-04-17T08:00:00+07:00", "amount": 2, "unit": "working_days", "unit_code": B},
                FOUND,
            )
        ],
        "/dossiers/v1/calendar/units/{unit}/hours": [(f"/dossiers/v1/calendar/units/{B}/hours", {}, FOUND)],
        "/dossiers/v1/dossiers": [("/dossiers/v1/dossiers", {}, DATA), ("/dossiers/v1/dossiers", {"unit": B}, DATA)],
        "/dossiers/v1/dossiers/{ma_ho_so}": [(f"/dossiers/v1/dossiers/{KEY_B}", {}, DATA)],
        "/notifications/v1/deliveries": [
            ("/notifications/v1/deliveries", {}, DATA),
            ("/notifications/v1/deliveries", {"unit": B}, DATA),
        ],
        "/notifications/v1/deliveries/{delivery_id}": [(f"/notifications/v1/deliveries/{ids['delivery']}", {}, DATA)],
        "/notifications/v1/letter-settings/{unit_code}": [(f"/notifications/v1/letter-settings/{B}", {}, DATA)],
        "/notifications/v1/letters": [("/notifications/v1/letters", {"dossier": KEY_B}, DATA)],
        "/notifications/v1/letters/print-queue": [
            ("/notifications/v1/letters/print-queue", {}, DATA),
            ("/notifications/v1/letters/print-queue", {"unit": B}, DATA),
        ],
        "/notifications/v1/letters/{letter_id}": [(f"/notifications/v1/letters/{letter}", {}, DATA)],
        "/notifications/v1/letters/{letter_id}.pdf": [(f"/notifications/v1/letters/{letter}.pdf", {}, FOUND)],
        "/notifications/v1/letters/{letter_id}/text": [
            (f"/notifications/v1/letters/{letter}/text", {"channel": "sms"}, DATA)
        ],
        "/notifications/v1/recipients": [("/notifications/v1/recipients", {}, DATA)],
        "/notifications/v1/recipients/{unit_code}": [(f"/notifications/v1/recipients/{B}", {}, DATA)],
        "/notifications/v1/recipients/{unit_code}/contacts": [(f"/notifications/v1/recipients/{B}/contacts", {}, DATA)],
        "/plans/v1/obligations/{obligation_id}": [(f"/plans/v1/obligations/{ids['obligation']}", {}, DATA)],
        "/plans/v1/obligations/{obligation_id}/occurrences": [
            (f"/plans/v1/obligations/{ids['obligation']}/occurrences", {}, DATA)
        ],
        "/plans/v1/occurrences/{occurrence_id}": [(f"/plans/v1/occurrences/{ids['occurrence']}", {}, DATA)],
        "/plans/v1/plans": [("/plans/v1/plans", {}, DATA)],
        "/plans/v1/plans/{plan_id}": [(f"/plans/v1/plans/{plan}", {}, DATA)],
        "/plans/v1/plans/{plan_id}/revisions": [(f"/plans/v1/plans/{plan}/revisions", {}, FOUND)],
        "/plans/v1/plans/{plan_id}/targets": [(f"/plans/v1/plans/{plan}/targets", {}, FOUND)],
        "/plans/v1/plans/{plan_id}/tree": [(f"/plans/v1/plans/{plan}/tree", {}, DATA)],
        "/plans/v1/tasks": [("/plans/v1/tasks", {"q": "thủ tục riêng"}, DATA)],
        "/plans/v1/unit-groups": [
            ("/plans/v1/unit-groups", {}, DATA),
            ("/plans/v1/unit-groups", {"owner_code": B}, DATA),
        ],
        "/plans/v1/unit-groups/{code}": [("/plans/v1/unit-groups/nhom-cam-binh", {}, DATA)],
        "/plans/v1/units": [("/plans/v1/units", {}, DATA)],
        "/plans/v1/units/{code}": [(f"/plans/v1/units/{B}", {}, DATA)],
        "/plans/v1/units/{code}/obligations": [
            (f"/plans/v1/units/{B}/obligations", {"from": "2024-01-01", "to": "2024-12-31"}, DATA)
        ],
        "/plans/v1/units/{code}/overdue": [(f"/plans/v1/units/{B}/overdue", {}, DATA)],
        "/scoring/v1/indicators": [("/scoring/v1/indicators", {"unit": B, **YEAR}, DATA)],
        "/scoring/v1/indicators/{code}/series": [
            ("/scoring/v1/indicators/dossiers.received/series", {"unit": B, **months}, DATA)
        ],
        "/scoring/v1/rankings": [
            ("/scoring/v1/rankings", {"level": "commune", "code": "dossiers.received", **YEAR}, DATA)
        ],
        "/scoring/v1/scorecard": [("/scoring/v1/scorecard", {"unit": B, **YEAR}, DATA)],
        "/scoring/v1/targets": [("/scoring/v1/targets", {"unit": B, **YEAR}, FOUND)],
    }


def marks_of_b(answer: httpx.Response) -> list[str]:
    return [mark for mark in MARKERS_B if mark in answer.text]


async def test_a_communes_officer_gets_nothing_of_another_commune_from_any_route(province: Province):
    table = requests_about_b(await objects_of_b(province))
    assert sorted(table) == sorted(officer_routes()), "a GET route without its requests about B (or SHARED)"
    problems = []
    for requests in table.values():
        if requests == SHARED:
            continue
        for url, query, expected in requests:
            whole = await province.get(url, admin(), **query)
            if whole.status_code != 200 or (expected == DATA and not marks_of_b(whole)):
                problems.append(f"positive control: admin {url} {query} {whole.status_code} {whole.text[:200]}")
            theirs = await province.get(url, OFFICER_A, **query)
            if theirs.status_code == 404:
                continue
            if theirs.status_code != 200 or expected == FOUND or marks_of_b(theirs):
                problems.append(f"A's officer: {url} {query} {theirs.status_code} {marks_of_b(theirs)}")
    assert problems == []
