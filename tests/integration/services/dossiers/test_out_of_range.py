"""Out-of-range values in the dossiers API: a 422 naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.integration.services.dossiers.conftest import Dossiers
from tests.integration.services.dossiers.test_intake_and_queries import AGENCY, PERMIT


def fields(answer) -> list[str]:
    assert answer.status_code == 422, (answer.status_code, answer.text)
    return [e["field"] for e in answer.json()["errors"]]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/dossiers/v1/dossiers", {"received_from": "9999-12-31T23:59:59-10:00"}, "query.received_from"),
        ("/dossiers/v1/dossiers", {"due_to": "0001-01-01T00:00:00+14:00"}, "query.due_to"),
        (
            "/dossiers/v1/calendar/due",
            {"start": "0001-01-01T00:00:00+07:00", "amount": 1, "unit": "working_days"},
            "query.start",
        ),
        (
            "/dossiers/v1/calendar/due",
            {"start": "9999-12-31T00:00:00+07:00", "amount": 1, "unit": "working_days"},
            "query.start",
        ),
    ],
)
async def test_queries_with_instants_out_of_range_name_the_field(
    dossiers: Dossiers, path: str, params: dict, field: str
):
    assert field in fields(await dossiers.client.get(path, params=params))


async def test_calendar_days_and_intake_out_of_range_name_the_field(dossiers: Dossiers):
    day = {"working": False, "reason": "Nghỉ"}
    assert fields(await dossiers.client.put("/dossiers/v1/calendar/days/9999-12-31", json=day)) == ["path.day"]
    assert fields(await dossiers.client.delete("/dossiers/v1/calendar/days/0001-01-01")) == ["path.day"]
    assert (await dossiers.client.put("/dossiers/v1/calendar/days/2024-12-30", json=day)).status_code == 200  # control
    await dossiers.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)
    body = {
        "agency": AGENCY,
        "ma_tthc": "1.004227",
        "applicant": {"name": "Lê Thị Thu Hà"},
        "received_at": "0001-01-01T00:00:00+07:00",
    }
    assert fields(await dossiers.client.post("/dossiers/v1/dossiers", json=body)) == ["body.received_at"]
    nul = {**body, "received_at": "2024-04-15T07:30:00+07:00", "applicant": {"name": "Lê\x00Hà"}}
    answer = await dossiers.client.post("/dossiers/v1/dossiers", json=nul)
    assert fields(answer) == ["body.applicant.name"] and "control" in answer.json()["errors"][0]["message"]
    fee = {**PERMIT, "fees": [{"name": "Lệ phí", "amount": 1e40}]}
    assert fields(await dossiers.client.put("/dossiers/v1/procedures/1.004227", json=fee)) == ["body.fees.0.amount"]


@pytest.mark.parametrize(
    "where",
    [
        '{receivedFrom: "9999-12-31T23:59:59-10:00"}',
        '{dueTo: "0001-01-01T00:00:00+14:00"}',
        "{status: [99]}",
        "{channel: 9}",
    ],
)
async def test_graphql_dossier_filters_out_of_range_are_refused_with_the_field(dossiers: Dossiers, where: str):
    body = (
        await dossiers.client.post("/graphql", json={"query": f"{{ dossiers(where: {where}) {{ nextCursor }} }}"})
    ).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", error
    assert len(error["extensions"]["errors"]) == 1
    control = (
        await dossiers.client.post("/graphql", json={"query": "{ dossiers(where: {status: [4]}) { nextCursor } }"})
    ).json()
    assert "errors" not in control


@pytest.mark.parametrize("first", [-1, 0, 501])
async def test_a_graphql_page_size_out_of_range_is_refused_naming_first(dossiers: Dossiers, first: int):
    body = (
        await dossiers.client.post("/graphql", json={"query": f"{{ dossiers(first: {first}) {{ nextCursor }} }}"})
    ).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["errors"][0]["field"] == "first"
    control = (await dossiers.client.post("/graphql", json={"query": "{ dossiers(first: 500) { nextCursor } }"})).json()
    assert "errors" not in control
