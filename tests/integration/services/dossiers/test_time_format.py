"""One time format: every instant REST, GraphQL and the events write is ISO 8601 with +07:00, whether
the dossier was synced (stored in UTC) or received at the desk; filters take a date alone for that
day in Vietnam, and multi-valued filters take commas."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from shared.clock import VN_TZ
from tests.integration.services.dossiers.conftest import Dossiers, example
from tests.integration.services.dossiers.test_intake_and_queries import PERMIT, receive

VN_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+07:00$")
ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")  # any ISO instant, whatever its offset
SYNCED = example("dongbohosomc.json")["data"]  # received 15/04 09:15 (in progress) and 16/04 07:00 (returned)


def instants(value: Any) -> Iterator[str]:
    """Every string in ``value`` (nested) that is an ISO instant."""
    if isinstance(value, dict):
        for item in value.values():
            yield from instants(item)
    elif isinstance(value, list):
        for item in value:
            yield from instants(item)
    elif isinstance(value, str) and ISO_INSTANT.match(value):
        yield value


async def synced_and_received(d: Dossiers) -> tuple[str, str]:
    """One synced dossier (with a supplement and an end of processing) and one received at the desk."""
    await d.push(copy.deepcopy(SYNCED))
    assert (await d.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)).status_code == 200
    desk = await receive(d, datetime(2024, 4, 15, 20, tzinfo=VN_TZ))
    return SYNCED[1]["MaHoSo"], desk["ma_ho_so"]


async def test_rest_writes_every_instant_of_synced_and_desk_dossiers_in_vietnam_time(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 5, 20, 8, tzinfo=VN_TZ))
    synced, desk = await synced_and_received(d)
    for key in (synced, desk):
        body = await d.get(key)
        written = list(instants(body))
        assert len(written) >= 5, written  # received, due, history, updated...
        assert [w for w in written if not VN_INSTANT.match(w)] == []
    returned = await d.get(synced)
    assert returned["received_at"] == "2024-04-16T07:00:00+07:00"
    assert returned["finished_at"] == "2024-05-10T15:30:00+07:00"
    assert returned["pauses"][0]["requested_at"] == "2024-04-19T10:00:00+07:00"
    due = await d.client.get(
        "/dossiers/v1/calendar/due", params={"start": "2024-04-15T13:00:00Z", "amount": 1, "unit": "working_days"}
    )
    assert due.json()["start"] == "2024-04-15T20:00:00+07:00"  # the start given in UTC, written back in Vietnam time


async def test_graphql_writes_instants_in_vietnam_time(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 5, 20, 8, tzinfo=VN_TZ))
    synced, _ = await synced_and_received(d)
    query = """query($k: String!) { dossier(maHoSo: $k) { receivedAt finishedAt updatedAt
        statusHistory { at } pauses { requestedAt resumedAt } dueHistory { dueAt at } apology } }"""
    response = await d.client.post("/graphql", json={"query": query, "variables": {"k": synced}})
    dossier = response.json()["data"]["dossier"]
    assert dossier["receivedAt"] == "2024-04-16T07:00:00+07:00"
    written = list(instants(dossier))
    assert len(written) >= 8 and [w for w in written if not VN_INSTANT.match(w)] == []


async def test_event_envelopes_and_payloads_carry_vietnam_time(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 5, 20, 8, tzinfo=VN_TZ))
    synced, desk = await synced_and_received(d)
    events = await d.events()
    assert {e["subject"] for e in await d.events("dossier.received")} >= {synced, desk}
    assert await d.events("dossier.resolved", synced)
    for event in events:
        written = [event["time"], *instants(event["data"])]
        assert [w for w in written if not VN_INSTANT.match(w)] == [], event["type"]
    resolved = (await d.events("dossier.resolved", synced))[0]["data"]
    assert resolved["finished_at"] == "2024-05-10T15:30:00+07:00"


async def test_filters_take_a_date_alone_for_that_day_in_vietnam_and_commas(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 5, 20, 8, tzinfo=VN_TZ))
    await d.push(copy.deepcopy(SYNCED))  # received 15/04 09:15 and 16/04 07:00 (Vietnam time)
    first, second = SYNCED[0]["MaHoSo"], SYNCED[1]["MaHoSo"]

    async def keys(**params: Any) -> list[str]:
        response = await d.client.get("/dossiers/v1/dossiers", params=params)
        assert response.status_code == 200, response.text
        return [i["ma_ho_so"] for i in response.json()["items"]]

    assert await keys(received_from="2024-04-15", received_to="2024-04-15") == [first]
    assert await keys(received_from="2024-04-16") == [second]
    assert await keys(received_to="2024-04-16") == [first, second]  # the whole of the 16th, to 23:59:59
    # an instant keeps its own offset: 15/04 09:15 in Vietnam is 02:15 UTC, 16/04 07:00 is 00:00 UTC
    assert await keys(received_from="2024-04-15T02:15:00Z", received_to="2024-04-15T02:15:01Z") == [first]
    assert await keys(received_from="2024-04-16T00:00:00Z") == [second]
    assert await keys(status="4,10") == [first, second] == await keys(status=["4", "10"])
    assert await keys(status="10") == [second]
    assert await keys(timeliness="open_overdue,on_time") == await keys(timeliness=["open_overdue", "on_time"])
    invalid = await d.client.get("/dossiers/v1/dossiers", params={"received_from": "2024-02-30"})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "query.received_from"

    query = """query($w: DossierFilterInput) { dossiers(where: $w) { items { maHoSo } } }"""
    for where, expected in (
        ({"receivedFrom": "2024-04-15", "receivedTo": "2024-04-15"}, [first]),
        ({"receivedFrom": "2024-04-16T00:00:00+07:00"}, [second]),
    ):
        response = await d.client.post("/graphql", json={"query": query, "variables": {"w": where}})
        assert [i["maHoSo"] for i in response.json()["data"]["dossiers"]["items"]] == expected, response.text
    refused = await d.client.post("/graphql", json={"query": query, "variables": {"w": {"receivedTo": "soon"}}})
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
