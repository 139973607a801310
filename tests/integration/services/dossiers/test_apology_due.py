"""The officer's morning question, "which must I apologise for today?": the apology-deadline filters
of the dossier list (REST and GraphQL) and the deadline each dossier shows."""

from __future__ import annotations

import asyncio
from datetime import datetime

from shared.bus.base import Message
from shared.clock import VN_TZ
from shared.events import CloudEvent
from tests.integration.services.dossiers.conftest import Dossiers, example

RECORD = example("dongbohosomc.json")["data"][0]  # the clock starts Mon 15/04/2024 08:00


def dossier(seq: int, due: str, **fields: object) -> dict:
    return {
        **RECORD,
        "MaHoSo": f"000.00.12.H42-240412-{seq:04d}",
        "NgayTiepNhan": "20240412080000",
        "NgayHenTra": due,
        **fields,
    }


DUE_TODAY = dossier(1, "20240416091500")  # due Tue 09:15: the apology is due Mon 15/04 09:15
DUE_TOMORROW = dossier(2, "20240417100000")  # due Wed 10:00: apology Tue 16/04 10:00
MISSED = dossier(3, "20240415100000")  # due Mon 10:00: the apology was due Fri 12/04 10:00
AFTER_A_WEEKEND = dossier(4, "20240422090000")  # due Mon 22/04: apology Fri 19/04 09:00
FINISHED = dossier(5, "20240416091500", TrangThaiHoSo=9, NgayKetThucXuLy="20240415075000")
PAUSED = dossier(6, "20240416091500", TrangThaiHoSo=5)  # waiting for the applicant: the clock stands
RECORDS = [DUE_TODAY, DUE_TOMORROW, MISSED, AFTER_A_WEEKEND, FINISHED, PAUSED]


def keys(*records: dict) -> list[str]:
    return [r["MaHoSo"] for r in records]


async def listed(d: Dossiers, **params: str) -> list[str]:
    response = await d.client.get("/dossiers/v1/dossiers", params=params)
    assert response.status_code == 200, response.text
    return [item["ma_ho_so"] for item in response.json()["items"]]


async def listed_in_graphql(d: Dossiers, where: str) -> list[str]:
    query = "{ dossiers(where: {%s}) { items { maHoSo apologyDueAt } } }" % where
    body = (await d.client.post("/graphql", json={"query": query})).json()
    assert "errors" not in body, body
    return [item["maHoSo"] for item in body["data"]["dossiers"]["items"]]


async def test_the_morning_query_lists_the_apologies_due_today_and_the_missed_ones(dossiers: Dossiers):
    assert (await dossiers.push(RECORDS))["created"] == len(RECORDS)

    assert await listed(dossiers, apology_due="today") == keys(DUE_TODAY)
    assert await listed(dossiers, apology_due="2024-04-16") == keys(DUE_TOMORROW)
    assert await listed(dossiers, apology_due="2024-04-19") == keys(AFTER_A_WEEKEND)
    assert await listed(dossiers, apology_due_before="today") == keys(DUE_TODAY, MISSED)
    assert await listed(dossiers, apology_due_before="2024-04-15T09:00:00+07:00") == keys(MISSED)
    assert await listed(dossiers, apology_due="today", apology_due_before="2024-04-15T09:00:00+07:00") == []

    assert await listed_in_graphql(dossiers, 'apologyDue: "today"') == keys(DUE_TODAY)
    assert await listed_in_graphql(dossiers, 'apologyDueBefore: "today"') == keys(DUE_TODAY, MISSED)

    shown = {key: (await dossiers.get(key))["apology_due_at"] for key in keys(*RECORDS)}
    assert datetime.fromisoformat(shown[DUE_TODAY["MaHoSo"]]) == datetime(2024, 4, 15, 9, 15, tzinfo=VN_TZ)
    assert datetime.fromisoformat(shown[AFTER_A_WEEKEND["MaHoSo"]]) == datetime(2024, 4, 19, 9, tzinfo=VN_TZ)
    assert shown[FINISHED["MaHoSo"]] is None and shown[PAUSED["MaHoSo"]] is None


async def test_today_follows_the_clock(dossiers: Dossiers):
    await dossiers.push(RECORDS)
    dossiers.clock.set(datetime(2024, 4, 16, 7, 0, tzinfo=VN_TZ))
    assert await listed(dossiers, apology_due="today") == keys(DUE_TOMORROW)


async def test_a_dossier_leaves_the_list_once_its_letter_is_issued_or_it_finishes(dossiers: Dossiers):
    await dossiers.push(RECORDS)
    assert await listed(dossiers, apology_due_before="today") == keys(DUE_TODAY, MISSED)  # positive control

    await issue_letter(dossiers, MISSED["MaHoSo"], new_due=datetime(2024, 4, 19, 16, tzinfo=VN_TZ))
    finished = {"MaHoSo": DUE_TODAY["MaHoSo"], "ThoiDiemXuLy": "20240415093000", "TrangThai": 9}
    assert (await dossiers.push([finished], service="CapNhatTienDoHoSoMC"))["updated"] == 1
    for _ in range(200):  # the letter arrives through the bus
        if await listed(dossiers, apology_due_before="today") == []:
            break
        await asyncio.sleep(0.01)
    assert await listed(dossiers, apology_due_before="today") == []
    assert (await dossiers.get(MISSED["MaHoSo"]))["apology"]["number"] == "7/PXL"


async def test_a_filter_that_is_no_day_is_refused_naming_it(dossiers: Dossiers):
    for params in ({"apology_due": "tomorrow"}, {"apology_due": "2024-02-30"}, {"apology_due_before": "yesterday"}):
        response = await dossiers.client.get("/dossiers/v1/dossiers", params=params)
        assert response.status_code == 422, response.text
        [name] = params
        [error] = response.json()["errors"]
        assert error["field"] == f"query.{name}" and "`today`" in error["message"], error
    query = '{ dossiers(where: {apologyDue: "soon"}) { items { maHoSo } } }'
    body = (await dossiers.client.post("/graphql", json={"query": query})).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def issue_letter(d: Dossiers, key: str, new_due: datetime) -> None:
    """What notifications publishes when it issues a letter."""
    data = {"letter_id": "7", "number": "7/PXL", "ma_ho_so": key, "issued_at": d.clock.now().isoformat()}
    event = CloudEvent(
        source="/cchc/notifications",
        type="vn.cchc.letter.issued.v1",
        time=d.clock.now(),
        subject=key,
        data={**data, "new_due_at": new_due.isoformat()},
    )
    await d.runtime.bus.publish([Message(topic="cchc.notifications", key=key, value=event.to_json().encode())])
