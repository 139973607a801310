"""Intake at the desk, legal transitions with pauses, the calendar API, and the query APIs."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from services.dossiers import store
from services.dossiers.handlers import on_letter_issued
from services.dossiers.schemas import DossierOut
from shared.clock import VN_TZ
from shared.events import CloudEvent
from tests.integration.services.dossiers.conftest import Dossiers, example

PERMIT = {
    "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "field_code": "G13",
    "field_name": "Xây dựng",
    "amount": 15,
    "unit": "working_days",
    "level": "commune",
}
AGENCY = "000.00.12.H42"


async def receive(d: Dossiers, received_at: datetime | None = None, **extra: object) -> dict:
    body = {
        "agency": AGENCY,
        "ma_tthc": "1.004227",
        "channel": 2,
        "applicant": {"name": "Lê Thị Thu Hà", "email": "thuha@example.vn"},
        **extra,
    }
    if received_at:
        body["received_at"] = received_at.isoformat()
    response = await d.client.post("/dossiers/v1/dossiers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def move(d: Dossiers, key: str, to: int, at: datetime) -> dict:
    response = await d.client.post(
        f"/dossiers/v1/dossiers/{key}/transitions", json={"to": to, "at": at.isoformat(), "actor": "Nguyễn Văn An"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_worked_example_received_at_the_desk(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 5, 20, 8, tzinfo=VN_TZ))
    assert (await d.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)).status_code == 200
    dossier = await receive(d, datetime(2024, 4, 15, 20, tzinfo=VN_TZ))
    key = dossier["ma_ho_so"]
    assert key == f"{AGENCY}-240415-0001"
    assert datetime.fromisoformat(dossier["due_at"]) == datetime(2024, 5, 9, 17, tzinfo=VN_TZ)
    await move(d, key, 4, datetime(2024, 4, 16, 8, tzinfo=VN_TZ))
    await move(d, key, 5, datetime(2024, 4, 19, 10, tzinfo=VN_TZ))
    resumed = await move(d, key, 4, datetime(2024, 4, 23, 9, tzinfo=VN_TZ))
    assert datetime.fromisoformat(resumed["due_at"]) == datetime(2024, 5, 13, 16, tzinfo=VN_TZ)
    assert resumed["pauses"][0]["working_seconds"] == 15 * 3600
    done = await move(d, key, 9, datetime(2024, 5, 10, 15, 30, tzinfo=VN_TZ))
    assert done["on_time"] is True and done["finished_at"]
    assert [s["status"] for s in done["status_history"]] == [2, 4, 5, 4, 9]
    [rescheduled] = await d.events("dossier.rescheduled", key)
    assert rescheduled["data"]["reason"] == "supplement"


async def test_an_illegal_transition_is_a_409_naming_the_allowed_ones(dossiers: Dossiers):
    await dossiers.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)
    key = (await receive(dossiers))["ma_ho_so"]
    response = await dossiers.client.post(f"/dossiers/v1/dossiers/{key}/transitions", json={"to": 10})
    assert response.status_code == 409
    body = response.json()
    assert body["current"] == 2 and [a["status"] for a in body["allowed"]] == [3, 4, 7]
    assert (await dossiers.client.post("/dossiers/v1/dossiers/nope/transitions", json={"to": 4})).status_code == 404
    unknown = await dossiers.client.post(
        "/dossiers/v1/dossiers", json={"agency": AGENCY, "ma_tthc": "9.999", "applicant": {"name": "A"}}
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "ma_tthc"


async def test_concurrent_intakes_get_a_gapless_daily_sequence(dossiers: Dossiers):
    await dossiers.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)
    received = await asyncio.gather(*(receive(dossiers) for _ in range(25)))
    numbers = sorted(int(d["ma_ho_so"].rsplit("-", 1)[1]) for d in received)
    assert numbers == list(range(1, 26))
    assert {d["ma_ho_so"].split("-")[1] for d in received} == {"240415"}


async def test_the_calculator_and_the_administrators_overrides(dossiers: Dossiers):
    due = await dossiers.client.get(
        "/dossiers/v1/calendar/due", params={"start": "2024-04-15T20:00:00+07:00", "amount": 15, "unit": "working_days"}
    )
    assert due.json()["due"] == "2024-05-09T17:00:00+07:00"
    days = (await dossiers.client.get("/dossiers/v1/calendar/days", params={"year": 2025})).json()
    assert "2025-04-26" in [x["date"] for x in days["working_weekend_days"]]
    assert "2025-05-02" in [x["date"] for x in days["non_working_weekdays"]]

    put = await dossiers.client.put(
        "/dossiers/v1/calendar/days/2024-05-08", json={"working": False, "reason": "Quốc tang"}
    )
    assert put.status_code == 200
    [changed] = await dossiers.events("calendar.changed")
    assert changed["data"] == {
        "date": "2024-05-08",
        "working": False,
        "reason": "Quốc tang",
        "removed": False,
        "unit": None,
        "office_hours": None,
    }  # a day override holds for every unit
    moved = await dossiers.client.get(
        "/dossiers/v1/calendar/due", params={"start": "2024-04-15T20:00:00+07:00", "amount": 15, "unit": "working_days"}
    )
    assert moved.json()["due"] == "2024-05-10T17:00:00+07:00"
    bad = await dossiers.client.get(
        "/dossiers/v1/calendar/due", params={"start": "2024-04-15T20:00:00", "amount": 1, "unit": "weeks"}
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"query.start", "query.unit"}


async def test_lists_filter_and_page_and_graphql_shows_history_and_pauses(dossiers: Dossiers):
    batch = example("dongbohosomc.json")["data"]
    await dossiers.push(batch)
    page = (await dossiers.client.get("/dossiers/v1/dossiers", params={"status": 10})).json()
    assert [x["ma_ho_so"] for x in page["items"]] == [batch[1]["MaHoSo"]]
    first = (await dossiers.client.get("/dossiers/v1/dossiers", params={"limit": 1})).json()
    second = (
        await dossiers.client.get("/dossiers/v1/dossiers", params={"limit": 1, "cursor": first["next_cursor"]})
    ).json()
    assert [x["ma_ho_so"] for x in first["items"] + second["items"]] == sorted(r["MaHoSo"] for r in batch)
    assert second["next_cursor"] is None
    late_window = {"due_from": "2024-05-13T00:00:00+07:00", "due_to": "2024-05-14T00:00:00+07:00", "channel": 2}
    assert len((await dossiers.client.get("/dossiers/v1/dossiers", params=late_window)).json()["items"]) == 1
    assert (await dossiers.client.get("/dossiers/v1/dossiers", params={"cursor": "%%%"})).status_code == 400

    query = """query($key: String!) { dossier(maHoSo: $key) { status timeliness dueAt
                 statusHistory { status label at } pauses { workingSeconds } } }"""
    response = await dossiers.client.post("/graphql", json={"query": query, "variables": {"key": batch[1]["MaHoSo"]}})
    dossier = response.json()["data"]["dossier"]
    assert dossier["timeliness"] == "EARLY" or dossier["timeliness"] == "early"
    assert [s["status"] for s in dossier["statusHistory"]] == [1, 2, 5, 4, 9, 10]
    assert dossier["pauses"] == [{"workingSeconds": 54000}]
    listing = await dossiers.client.post(
        "/graphql", json={"query": "{ dossiers(where: {status: [4]}) { items { maHoSo } nextCursor } }"}
    )
    assert listing.json()["data"]["dossiers"]["items"] == [{"maHoSo": batch[0]["MaHoSo"]}]


DOSSIER_FIELDS = """maHoSo origin status statusLabel unit agency procedureCode procedureName procedureFieldCode procedureFieldName
    channel applicantName applicantIdNumber applicantType applicantEmail applicantPhone applicantAddress summary submittedAt receivedAt
    dueAt originalDueAt finishedAt returnedAt timeliness onTime ruleSet supplementCount paidOnline digitised
    statusHistory { status label at source actor title department note }
    pauses { requestedAt resumedAt workingSeconds dueBefore dueAfter }
    dueHistory { dueAt previousDueAt at reason legalTime { amount unit sameDay } }
    apology apologyDueAt documents fees resultPapers extra version updatedAt"""
TYPED_LISTS = ("status_history", "pauses", "due_history")  # their items are GraphQL objects: camelCase as well


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel_keys(value: Any) -> Any:
    return {camel(k): v for k, v in value.items()} if isinstance(value, dict) else value  # a due change's legal time


def as_graphql(rest: dict[str, Any]) -> dict[str, Any]:
    """A REST dossier as the GraphQL Dossier writes it: procedure and applicant flattened, names in camelCase."""
    out: dict[str, Any] = {}
    for name, value in rest.items():
        if name in ("procedure", "applicant"):
            out.update({camel(f"{name}_{key}"): v for key, v in value.items()})
        elif name in TYPED_LISTS:
            out[camel(name)] = [{camel(k): camel_keys(v) for k, v in item.items()} for item in value]
        else:
            out[camel(name)] = value
    return out  # instants included: both write the same ISO text in Vietnam time


async def test_graphql_gives_every_field_of_the_rest_dossier(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 5, 20, 8, tzinfo=VN_TZ))
    await d.push(example("dongbohosomc.json")["data"])
    await d.push(
        example("capnhattiendohosomc.json")["data"], service="CapNhatTienDoHoSoMC"
    )  # an officer's step: title, department
    assert (await d.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)).status_code == 200
    applicant = {
        "name": "Lê Thị Thu Hà",
        "id_number": "042190000777",
        "phone": "0912 000 222",
        "address": "Cẩm Quang, Cẩm Xuyên",
    }
    received = await receive(d, datetime(2024, 5, 20, 8, tzinfo=VN_TZ), applicant=applicant, summary="Xây nhà ở", paid_online=2,
                             documents=[{"name": "Đơn đề nghị cấp giấy phép", "digitised": True}])  # fmt: skip
    letter = {
        "letter_id": "L1",
        "number": "1/PXL",
        "ma_ho_so": received["ma_ho_so"],
        "issued_at": "2024-05-20T08:00:00+07:00",
        "new_due_at": "2024-06-14T17:00:00+07:00",
    }
    event = CloudEvent(
        source="/cchc/notifications",
        type="vn.cchc.letter.issued.v1",
        time=d.clock.now(),
        subject=letter["ma_ho_so"],
        data=letter,
    )
    async with d.runtime["dossiers"].uow() as uow:
        await on_letter_issued(uow, event)
        await uow.commit()

    query = f"query($key: String!) {{ dossier(maHoSo: $key) {{ {DOSSIER_FIELDS} }} }}"
    keys = [received["ma_ho_so"], *(r["MaHoSo"] for r in example("dongbohosomc.json")["data"])]
    for key in keys:
        rest = await d.get(key)
        assert set(rest) == set(DossierOut.model_fields)  # and the answer below, to the query above, has each of them
        response = (await d.client.post("/graphql", json={"query": query, "variables": {"key": key}})).json()
        assert "errors" not in response, response["errors"]
        assert response["data"]["dossier"] == as_graphql(rest), key
    intake = (
        await d.client.post("/graphql", json={"query": query, "variables": {"key": received["ma_ho_so"]}})
    ).json()["data"]["dossier"]
    assert intake["dueHistory"][0]["legalTime"] == {"amount": 15.0, "unit": "working_days", "sameDay": False}
    assert (intake["ruleSet"], intake["apology"]["number"], intake["applicantIdNumber"]) == (
        "nd61_2018",
        "1/PXL",
        "042190000777",
    )
    assert [c["reason"] for c in intake["dueHistory"]] == ["initial", "apology"]
    assert intake["dueAt"] == letter["new_due_at"]


async def test_a_change_waits_for_the_transaction_that_read_the_dossier(dossiers: Dossiers):
    """A sweep (or any read-modify-write) writes back the row it read: a transition committed in
    between would be lost. Both backends make the transition wait instead (PostgreSQL: the row
    lock; SQLite: the write lock every transaction takes when it begins)."""
    await dossiers.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)
    key = (await receive(dossiers))["ma_ho_so"]
    context = dossiers.runtime["dossiers"]
    async with context.uow() as reader:
        dossier = (await store.load(reader.session, [key]))[key]
        moving = asyncio.create_task(move(dossiers, key, 4, dossiers.clock.now()))
        await asyncio.sleep(0.3)
        assert not moving.done(), "the transition did not wait for the transaction that read the row"
        await store.save(reader.session, [dossier])
        await reader.commit()
    assert (await moving)["status"] == 4
    assert (await dossiers.get(key))["status"] == 4


async def test_a_list_page_names_the_next_one_in_its_link_header(dossiers: Dossiers):
    """``Link: <?…>; rel="next"``: this request's query (filters kept) with the next cursor, relative
    to the URL asked; following it reads the next page; the last page has none."""
    batch = example("dongbohosomc.json")["data"]
    await dossiers.push(batch)
    first = await dossiers.client.get("/dossiers/v1/dossiers", params={"limit": 1, "received_from": "2024-01-01"})
    following = first.links["next"]["url"]
    assert following == f"?limit=1&received_from=2024-01-01&cursor={first.json()['next_cursor']}"
    second = await dossiers.client.get(str(first.url.join(following)))
    assert [x["ma_ho_so"] for x in first.json()["items"] + second.json()["items"]] == sorted(r["MaHoSo"] for r in batch)
    assert second.json()["next_cursor"] is None and "link" not in second.headers


async def test_the_procedure_catalogue_is_listed_in_pages(dossiers: Dossiers):
    codes = [f"1.00{n:04d}" for n in range(5)]
    for code in reversed(codes):
        assert (await dossiers.client.put(f"/dossiers/v1/procedures/{code}", json=PERMIT)).status_code == 200
    first = (await dossiers.client.get("/dossiers/v1/procedures", params={"limit": 3})).json()
    rest = (
        await dossiers.client.get("/dossiers/v1/procedures", params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()
    assert [p["ma_tthc"] for p in first["items"] + rest["items"]] == codes and rest["next_cursor"] is None
