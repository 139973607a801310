"""Office hours per unit: the API, inheritance, and where working time follows them.

The unit of the worked example works 07:30–11:30 / 13:00–17:00 (8 h a day, as by default) instead
of 07:00–11:30 / 13:30–17:00: the due times below are computed by hand from docs/domain.md §3.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from services.dossiers import store
from services.dossiers.handlers import on_letter_issued
from services.dossiers.scheduler import sweep_all
from shared.clock import VN_TZ
from shared.events import CloudEvent
from tests.integration.services.dossiers.conftest import Dossiers, example

DISTRICT, COMMUNE, OTHER_COMMUNE = "000.00.10.H42", "000.00.12.H42", "000.00.13.H42"
UNIT_HOURS = {"windows": ["07:30-11:30", "13:00-17:00"]}
DEFAULT_WINDOWS = ["07:00-11:30", "13:30-17:00"]
EIGHT_HOURS, FOUR_HOURS, TWENTY_HOURS = "2.000815", "2.000816", "2.000817"
FRIDAY_1630 = datetime(2024, 5, 10, 16, 30, tzinfo=VN_TZ)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def hours_url(unit: str) -> str:
    return f"/dossiers/v1/calendar/units/{unit}/hours"


async def start(start_dossiers: Any, now: datetime = FRIDAY_1630, **settings: Any) -> Dossiers:
    d = await start_dossiers(now=now, **settings)
    await d.register_unit(DISTRICT, "UBND huyện Cẩm Xuyên", level="district")
    await d.register_unit(COMMUNE, "UBND xã Cẩm Quang", parent=DISTRICT)
    await d.register_unit(OTHER_COMMUNE, "UBND xã Cẩm Thành", parent=DISTRICT)
    for code, amount in ((EIGHT_HOURS, 8), (FOUR_HOURS, 4), (TWENTY_HOURS, 20)):
        procedure = {
            "name": f"Chứng thực ({amount} giờ)",
            "field_code": "G01",
            "amount": amount,
            "unit": "working_hours",
        }
        assert (await d.client.put(f"/dossiers/v1/procedures/{code}", json=procedure)).status_code == 200
    return d


async def receive(
    d: Dossiers, procedure: str, received_at: datetime | None = None, agency: str = COMMUNE
) -> dict[str, Any]:
    body: dict[str, Any] = {"agency": agency, "ma_tthc": procedure, "applicant": {"name": "Nguyễn Thị Lan"}}
    if received_at:
        body["received_at"] = received_at.isoformat()
    response = await d.client.post("/dossiers/v1/dossiers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def move(d: Dossiers, key: str, to: int, at: datetime) -> dict[str, Any]:
    response = await d.client.post(f"/dossiers/v1/dossiers/{key}/transitions", json={"to": to, "at": at.isoformat()})
    assert response.status_code == 200, response.text
    return response.json()


def due(dossier: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(dossier["due_at"])


async def letter(d: Dossiers, key: str, new_due: datetime) -> None:
    data = {
        "letter_id": "L1",
        "number": "1/PXL",
        "ma_ho_so": key,
        "issued_at": d.clock.now().isoformat(),
        "new_due_at": new_due.isoformat(),
    }
    event = CloudEvent(
        source="/cchc/notifications", type="vn.cchc.letter.issued.v1", time=d.clock.now(), subject=key, data=data
    )
    async with d.runtime["dossiers"].uow() as uow:
        await on_letter_issued(uow, event)
        await uow.commit()


async def test_hours_are_checked_field_by_field_and_refused_whole(start_dossiers):
    d = await start(start_dossiers)
    refused = [
        ({"windows": []}, "body.windows", "Cần ít nhất một khung giờ làm việc."),
        ({"windows": ["7h30-11h30"]}, "body.windows", "Khung giờ thứ 1 (7h30-11h30) phải viết dạng HH:MM-HH:MM, ví dụ 07:30-11:30."),
        ({"windows": ["07:30-11:30", "13:00-13:00"]}, "body.windows", "Khung giờ thứ 2 (13:00-13:00) phải bắt đầu trước khi kết thúc."),
        ({"windows": ["13:00-17:00", "07:30-11:30"]}, "body.windows", "Khung giờ thứ 2 (07:30-11:30) phải bắt đầu sau khi khung giờ trước kết thúc (theo thứ tự, không chồng lấn)."),
        ({"windows": ["07:30-12:00", "11:30-17:00"]}, "body.windows", "Khung giờ thứ 2 (11:30-17:00) phải bắt đầu sau khi khung giờ trước kết thúc (theo thứ tự, không chồng lấn)."),
        ({"windows": ["07:30-11:30"], "same_day_cutoff": "16:00"}, "body.same_day_cutoff", "Giờ chốt nhận trong ngày phải nằm trong giờ làm việc (07:30 đến 11:30)."),
        ({"windows": ["07:30-11:30"], "same_day_cutoff": "3pm"}, "body.same_day_cutoff", "Giờ chốt nhận trong ngày phải viết dạng HH:MM, ví dụ 15:00."),
        ({"windows": ["07:30-11:30"], "lunch": "11:30"}, "body.lunch", None),
    ]  # fmt: skip
    for body, field, message in refused:
        response = await d.client.put(hours_url(COMMUNE), json=body)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json", body
        [error] = response.json()["errors"]
        assert error["field"] == field and (message is None or error["message"] == message), error
    assert (await d.client.get(hours_url(COMMUNE))).json()["set_on"] is None  # nothing was stored
    assert await d.events("calendar.changed") == []


async def test_the_worked_example_in_the_hours_a_commune_inherits_from_its_district(start_dossiers):
    d = await start(start_dossiers)
    put = await d.client.put(
        hours_url(DISTRICT), json={"windows": [" 07:30 - 11:30", "13:00–17:00"]}
    )  # written loosely
    assert put.status_code == 200, put.text
    assert {k: v for k, v in put.json().items() if k != "updated_at"} == {
        "unit": DISTRICT, "windows": ["07:30-11:30", "13:00-17:00"], "same_day_cutoff": "15:00", "hours_per_day": 8.0, "set_on": DISTRICT
    }  # fmt: skip
    commune = (await d.client.get(hours_url(COMMUNE))).json()
    assert (commune["set_on"], commune["windows"]) == (DISTRICT, ["07:30-11:30", "13:00-17:00"])
    elsewhere = (await d.client.get(hours_url("000.00.99.H42"))).json()
    assert (elsewhere["set_on"], elsewhere["windows"], elsewhere["updated_at"]) == (None, DEFAULT_WINDOWS, None)

    # Received Friday 16:30, inside the afternoon window: 0.5 h on Friday, 4 h on Monday morning
    # (07:30–11:30), the last 3.5 h from 13:00 → Monday 16:30. (The brief's "Monday 16:00" would
    # need a full hour on Friday; the default hours give Monday 16:30 too: 0.5 + 4.5 + 3.)
    eight = await receive(d, EIGHT_HOURS)
    assert due(eight) == vn(2024, 5, 13, 16, 30)
    assert eight["due_history"][0]["legal_time"] == {"amount": 8.0, "unit": "working_hours", "same_day": False}
    # Four hours tell the hours apart: 0.5 h + 3.5 h from 07:30 → Monday 11:00 (default hours: 10:30).
    assert due(await receive(d, FOUR_HOURS)) == vn(2024, 5, 13, 11)
    assert due(await receive(d, FOUR_HOURS, agency="000.00.99.H42")) == vn(2024, 5, 13, 10, 30)

    params = {"start": FRIDAY_1630.isoformat(), "amount": 4, "unit": "working_hours"}
    calculated = (await d.client.get("/dossiers/v1/calendar/due", params={**params, "unit_code": COMMUNE})).json()
    assert (calculated["due"], calculated["hours_set_on"]) == ("2024-05-13T11:00:00+07:00", DISTRICT)
    default = (await d.client.get("/dossiers/v1/calendar/due", params=params)).json()
    assert (default["due"], default["hours_set_on"]) == ("2024-05-13T10:30:00+07:00", None)

    [changed] = await d.events("calendar.changed")
    assert changed["subject"] == "2024-05-10"
    assert changed["data"] == {
        "date": "2024-05-10", "working": True, "reason": f"Đặt giờ làm việc riêng của đơn vị {DISTRICT}", "removed": False,
        "unit": DISTRICT, "office_hours": {"windows": ["07:30-11:30", "13:00-17:00"], "same_day_cutoff": "15:00", "set_on": DISTRICT},
    }  # fmt: skip
    assert (await d.client.put(hours_url(DISTRICT), json=UNIT_HOURS)).status_code == 200  # the same again
    assert len(await d.events("calendar.changed")) == 1


async def test_changing_hours_re_dates_the_open_dossiers_received_here_and_nothing_else(start_dossiers):
    # Every alarm stays ahead of the clock here, so the late-detection sweep never rewrites these rows.
    d = await start(start_dossiers, now=vn(2024, 5, 13, 10))
    await d.client.put(hours_url(OTHER_COMMUNE), json={"windows": ["08:00-12:00", "13:00-17:00"]})
    paused, finished, apologised = [(await receive(d, TWENTY_HOURS))["ma_ho_so"] for _ in range(3)]  # due Wed 16:00
    d.clock.set(vn(2024, 5, 13, 15))
    await move(d, paused, 4, vn(2024, 5, 13, 10, 5))
    await move(d, paused, 5, vn(2024, 5, 13, 14))
    await move(d, finished, 4, vn(2024, 5, 13, 10, 5))
    await move(d, finished, 9, vn(2024, 5, 13, 15))
    await letter(d, apologised, vn(2024, 5, 17, 17))
    d.clock.set(vn(2024, 5, 14, 12))
    # Received Monday 10:00, 20 h → Wednesday 16:00; paused Monday 14:00 → Tuesday 12:00, 3 + 4.5 = 7.5
    # working hours → Wednesday 16–17, Thursday 07:00–11:30, 13:30–15:30.
    assert due(await move(d, paused, 4, vn(2024, 5, 14, 12))) == vn(2024, 5, 16, 15, 30)
    fresh = await receive(d, TWENTY_HOURS)  # at lunch: from 13:30, 3.5 + 8 + 8 + 0.5 → Friday 07:30
    assert due(fresh) == vn(2024, 5, 17, 7, 30)
    own_hours = await receive(d, TWENTY_HOURS, agency=OTHER_COMMUNE)  # its own hours: from 13:00, 4 + 8 + 8
    assert due(own_hours) == vn(2024, 5, 16, 17)
    synced = {
        **copy.deepcopy(example("dongbohosomc.json")["data"][0]),  # DonViXuLy "UBND xã Cẩm Quang", open
        "NgayTiepNhan": "20240513090000", "NgayHenTra": "20240517170000",
    }  # fmt: skip
    await d.push([synced])
    keys = [paused, finished, apologised, fresh["ma_ho_so"], own_hours["ma_ho_so"], synced["MaHoSo"]]
    before = {key: await d.get(key) for key in keys}
    # Hours that change no due time (only the cut-off of same-day procedures) touch no dossier.
    assert (
        await d.client.put(hours_url(DISTRICT), json={"windows": DEFAULT_WINDOWS, "same_day_cutoff": "14:00"})
    ).status_code == 200
    assert {key: await d.get(key) for key in keys} == before

    assert (await d.client.put(hours_url(DISTRICT), json=UNIT_HOURS)).status_code == 200
    after = {key: await d.get(key) for key in keys}
    assert due(after[fresh["ma_ho_so"]]) == vn(2024, 5, 16, 17)  # from 13:00: 4 + 8 + 8
    # 20 h from Monday 10:00: 1.5 + 4, 8, then 4 + 2.5 → Wednesday 15:30; the pause is 3 + 4 = 7 h in these
    # hours → Wednesday 15:30–17:00, Thursday 07:30–11:30, 13:00–14:30.
    assert due(after[paused]) == vn(2024, 5, 16, 14, 30)
    [pause] = after[paused]["pauses"]
    assert pause["working_seconds"] == 7 * 3600
    assert [datetime.fromisoformat(pause[k]) for k in ("due_before", "due_after")] == [
        vn(2024, 5, 15, 15, 30),
        vn(2024, 5, 16, 14, 30),
    ]
    assert [c["reason"] for c in after[paused]["due_history"]] == ["initial", "supplement", "office_hours"]
    assert after[paused]["original_due_at"] == before[paused]["original_due_at"]  # the first promise stays on record
    for unchanged in (finished, apologised, own_hours["ma_ho_so"], synced["MaHoSo"]):
        assert after[unchanged] == before[unchanged], unchanged
    rescheduled = [e["subject"] for e in await d.events("dossier.rescheduled") if e["data"]["reason"] == "office_hours"]
    assert sorted(rescheduled) == sorted([paused, fresh["ma_ho_so"]])

    # A supplement request now counts in the unit's hours: 12:45 → 13:30 is half an hour (none by default).
    d.clock.set(vn(2024, 5, 14, 14))
    await move(d, fresh["ma_ho_so"], 4, vn(2024, 5, 14, 12, 30))
    await move(d, fresh["ma_ho_so"], 5, vn(2024, 5, 14, 12, 45))
    resumed = await move(d, fresh["ma_ho_so"], 4, vn(2024, 5, 14, 13, 30))
    assert resumed["pauses"][0]["working_seconds"] == 1800 and due(resumed) == vn(2024, 5, 17, 8)

    assert (await d.client.delete(hours_url(DISTRICT))).status_code == 204
    back = await d.get(fresh["ma_ho_so"])
    assert due(back) == vn(2024, 5, 17, 7, 30) and back["pauses"][0]["working_seconds"] == 0
    back = await d.get(paused)
    assert due(back) == vn(2024, 5, 16, 15, 30) and back["pauses"][0]["working_seconds"] == 7.5 * 3600
    removed = (await d.events("calendar.changed"))[-1]["data"]
    assert removed["unit"] == DISTRICT and removed["office_hours"] == {
        "windows": DEFAULT_WINDOWS,
        "same_day_cutoff": "15:00",
        "set_on": None,
    }
    missing = await d.client.delete(hours_url(DISTRICT))
    assert missing.status_code == 404 and missing.json()["errors"] == [
        {"field": "unit", "message": f"Đơn vị {DISTRICT} không có giờ làm việc riêng."}
    ]


async def test_the_legal_time_recorded_at_receipt_is_used_and_the_catalogue_only_without_one(start_dossiers):
    d = await start(start_dossiers, now=vn(2024, 5, 13, 10))
    recorded, legacy = [(await receive(d, TWENTY_HOURS))["ma_ho_so"] for _ in range(2)]
    async with d.runtime["dossiers"].db.session() as session:  # a dossier received before legal times were recorded
        [dossier] = (await store.load(session, [legacy], lock=False)).values()
        history = [{k: v for k, v in h.items() if k != "legal_time"} for h in dossier.due_history]
        await session.execute(
            update(store.DOSSIERS).where(store.DOSSIERS.c.ma_ho_so == legacy).values(due_history=history)
        )
        await session.commit()
    longer = {"name": "Chứng thực (24 giờ)", "field_code": "G01", "amount": 24, "unit": "working_hours"}
    assert (await d.client.put(f"/dossiers/v1/procedures/{TWENTY_HOURS}", json=longer)).status_code == 200

    assert (await d.client.put(hours_url(COMMUNE), json=UNIT_HOURS)).status_code == 200
    assert due(await d.get(recorded)) == vn(2024, 5, 15, 15, 30)  # 20 h, as when it was received
    assert due(await d.get(legacy)) == vn(2024, 5, 16, 10)  # 24 h: 5.5 + 8 + 8 + 2.5


@pytest.mark.parametrize("own_hours", [True, False])
async def test_a_synced_dossier_keeps_its_due_time_but_pauses_and_alarms_follow_the_units_hours(
    start_dossiers, own_hours
):
    d = await start(start_dossiers, now=vn(2024, 5, 10, 9))
    if own_hours:
        await d.client.put(hours_url(COMMUNE), json={"windows": ["07:30-11:30", "13:00-16:30"]})
    record = {
        **copy.deepcopy(example("dongbohosomc.json")["data"][0]),
        "NgayTiepNhan": "20240506090000", "NgayHenTra": "20240513170000",
        "DanhSachHoSoBoSung": [{"HoSoBoSungId": "BS1", "NgayBoSung": "20240508120000", "NgayTiepNhanBoSung": "20240508140000"}],
    }  # fmt: skip
    await d.push([record])
    dossier = await d.get(record["MaHoSo"])
    assert due(dossier) == vn(2024, 5, 13, 17)  # NgayHenTra, whatever the hours
    assert dossier["pauses"][0]["working_seconds"] == (3600 if own_hours else 1800)  # 13:00–14:00 or 13:30–14:00

    # The apology deadline: one working day before Monday 17:00 is Friday 17:00, or the unit's close 16:30.
    d.clock.set(vn(2024, 5, 10, 16, 30))
    await sweep_all(d.runtime["dossiers"], d.clock.now())
    for _ in range(100 if own_hours else 1):  # the service's own scheduler may be the one that claimed the alarm
        due_soon = await d.events("dossier.due_soon", record["MaHoSo"])
        if due_soon:
            break
        await asyncio.sleep(0.02)
    if own_hours:
        assert [datetime.fromisoformat(e["data"]["apology_deadline"]) for e in due_soon] == [vn(2024, 5, 10, 16, 30)]
        assert (await d.get(record["MaHoSo"]))["timeliness"] == "open_due_soon"
    else:
        assert due_soon == [] and (await d.get(record["MaHoSo"]))["timeliness"] == "open_on_track"


async def test_a_synced_dossiers_apology_deadline_follows_a_later_change_of_hours_or_days(start_dossiers):
    d = await start(start_dossiers, now=vn(2024, 5, 13, 10))
    record = {
        **copy.deepcopy(example("dongbohosomc.json")["data"][0]),
        "NgayTiepNhan": "20240513090000",
        "NgayHenTra": "20240517170000",
    }
    key = record["MaHoSo"]
    await d.push([record])
    stored = await d.get(key)
    assert datetime.fromisoformat(stored["apology_due_at"]) == vn(
        2024, 5, 16, 17
    )  # a working day before, default hours

    await d.client.put(hours_url(COMMUNE), json={"windows": ["07:30-11:30", "13:00-16:30"]})
    after_hours = await d.get(key)
    assert datetime.fromisoformat(after_hours["apology_due_at"]) == vn(2024, 5, 16, 16, 30)  # the unit's close
    assert due(after_hours) == vn(2024, 5, 17, 17) and after_hours["version"] > stored["version"]

    off = await d.client.put("/dossiers/v1/calendar/days/2024-05-16", json={"working": False, "reason": "Nghỉ bù"})
    assert off.status_code == 200, off.text
    after_day = await d.get(key)
    assert datetime.fromisoformat(after_day["apology_due_at"]) == vn(2024, 5, 15, 16, 30)  # Thursday is off now
    assert due(after_day) == vn(2024, 5, 17, 17)  # NgayHenTra stays the province's
    assert await d.events("dossier.rescheduled", key) == []


async def test_a_day_declared_off_or_worked_re_dates_the_open_dossiers_counting_over_it(start_dossiers):
    d = await start(start_dossiers, now=vn(2024, 5, 13, 10))
    spanning = (await receive(d, TWENTY_HOURS))["ma_ho_so"]  # Monday 10:00 + 20 h (default hours) → Wednesday 16:00
    before_it = (await receive(d, FOUR_HOURS))["ma_ho_so"]  # → Monday 15:30, before the day
    synced = {
        **copy.deepcopy(example("dongbohosomc.json")["data"][0]),
        "NgayTiepNhan": "20240513090000",
        "NgayHenTra": "20240517170000",
    }
    await d.push([synced])
    untouched = {key: await d.get(key) for key in (before_it, synced["MaHoSo"])}

    off = await d.client.put("/dossiers/v1/calendar/days/2024-05-14", json={"working": False, "reason": "Nghỉ bù"})
    assert off.status_code == 200, off.text
    assert due(await d.get(spanning)) == vn(2024, 5, 16, 16)  # Tuesday no longer counts: a working day later
    assert {key: await d.get(key) for key in untouched} == untouched  # before the day; synced: the province's date
    [moved] = await d.events("dossier.rescheduled", spanning)
    assert moved["data"]["reason"] == "calendar_day"
    assert datetime.fromisoformat(moved["data"]["new_due_at"]) == vn(2024, 5, 16, 16)

    assert (await d.client.delete("/dossiers/v1/calendar/days/2024-05-14")).status_code == 204
    assert due(await d.get(spanning)) == vn(2024, 5, 15, 16)  # the holiday calendar decides again
    assert [c["reason"] for c in (await d.get(spanning))["due_history"]] == ["initial", "calendar_day", "calendar_day"]


# --- malformed hours: every message in Vietnamese, REST and GraphQL alike -------------------------

SEVEN_WINDOWS = [
    "07:00-08:00",
    "08:00-09:00",
    "09:00-10:00",
    "10:00-11:00",
    "13:00-14:00",
    "14:00-15:00",
    "15:00-16:00",
]
MALFORMED = [  # pydantic's own checks, which run before the validators of the hours
    ({"windows": SEVEN_WINDOWS}, "windows", "too_long", "Nhiều nhất 6 khung giờ làm việc, nhận được 7."),
    ({"windows": "07:30-11:30"}, "windows", "list_type", 'Các khung giờ làm việc phải là một danh sách, ví dụ ["07:30-11:30", "13:00-17:00"].'),
    ({"windows": ["07:30-11:30", 1300]}, "windows.1", "string_type", "Khung giờ thứ 2 phải là một chuỗi dạng HH:MM-HH:MM, ví dụ 07:30-11:30."),
    ({"windows": ["07:30-11:30"], "same_day_cutoff": 1000}, "same_day_cutoff", "string_type", "Giờ chốt nhận trong ngày phải viết dạng HH:MM, ví dụ 15:00."),
    ({"same_day_cutoff": "10:00"}, "windows", "missing", 'Cần các khung giờ làm việc (windows), ví dụ ["07:30-11:30", "13:00-17:00"].'),
    ({"windows": ["07:30-11:30"], "lunch": "11:30"}, "lunch", "extra_forbidden", "Không có trường này; hãy bỏ nó đi."),
]  # fmt: skip


async def test_malformed_hours_are_refused_in_vietnamese_with_pydantics_fields_and_types(start_dossiers):
    d = await start(start_dossiers)
    for body, field, kind, message in MALFORMED:
        response = await d.client.put(hours_url(COMMUNE), json=body)
        assert response.status_code == 422 and response.json()["code"] == "invalid_request", body
        assert response.json()["errors"] == [{"field": f"body.{field}", "message": message, "type": kind}]
    whole = [
        (await d.client.put(hours_url(COMMUNE), json=["07:30-11:30"]), "body", "model_attributes_type", "Phải là một đối tượng JSON."),
        (await d.client.put(hours_url(COMMUNE), content=b"{windows", headers={"content-type": "application/json"}),
         "body.1", "json_invalid", "Nội dung gửi lên không phải JSON hợp lệ."),
        (await d.client.put(hours_url(COMMUNE)), "body", "missing", "Thiếu trường bắt buộc này."),
    ]  # fmt: skip
    too_long = "9" * 65
    for method in ("GET", "PUT", "DELETE"):
        response = await d.client.request(method, hours_url(too_long), json=UNIT_HOURS if method == "PUT" else None)
        whole.append((response, "path.unit", "string_too_long", "Mã đơn vị dài nhất 64 ký tự."))
    for response, field, kind, message in whole:
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [{"field": field, "message": message, "type": kind}]
    assert (await d.client.get(hours_url(COMMUNE))).json()["set_on"] is None
    assert await d.events("calendar.changed") == []


# --- GraphQL: officeHours, setOfficeHours, clearOfficeHours ---------------------------------------

HOURS_FIELDS = "unit windows sameDayCutoff hoursPerDay setOn updatedAt"
OFFICE_HOURS = f"query($unit: String!) {{ officeHours(unit: $unit) {{ {HOURS_FIELDS} }} }}"
SET_HOURS = f"mutation($unit: String!, $input: OfficeHoursInput!) {{ setOfficeHours(unit: $unit, input: $input) {{ {HOURS_FIELDS} }} }}"
CLEAR_HOURS = f"mutation($unit: String!) {{ clearOfficeHours(unit: $unit) {{ {HOURS_FIELDS} }} }}"


async def gql(d: Dossiers, query: str, **variables: Any) -> dict[str, Any]:
    response = await d.client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def as_rest(hours: dict[str, Any]) -> dict[str, Any]:
    """GraphQL office hours as REST writes them (its instants compared as instants)."""
    names = {
        "sameDayCutoff": "same_day_cutoff",
        "hoursPerDay": "hours_per_day",
        "setOn": "set_on",
        "updatedAt": "updated_at",
    }
    return instants({names.get(k, k): v for k, v in hours.items()})


def instants(hours: dict[str, Any]) -> dict[str, Any]:
    return {**hours, "updated_at": hours["updated_at"] and datetime.fromisoformat(hours["updated_at"])}


async def published(d: Dossiers) -> list[tuple[Any, ...]]:
    return [(e["type"], e["subject"], e["time"], e["data"]) for e in await d.events()]


async def test_graphql_office_hours_are_the_rest_ones_own_inherited_or_default(start_dossiers):
    d = await start(start_dossiers)
    default = (await gql(d, OFFICE_HOURS, unit=COMMUNE))["data"]["officeHours"]
    assert (default["windows"], default["sameDayCutoff"], default["setOn"], default["updatedAt"]) == (
        DEFAULT_WINDOWS,
        "15:00",
        None,
        None,
    )
    assert (await d.client.put(hours_url(DISTRICT), json={**UNIT_HOURS, "same_day_cutoff": "16:00"})).status_code == 200
    for unit in (DISTRICT, COMMUNE, "000.00.99.H42"):  # its own, its district's, the default ones
        hours = (await gql(d, OFFICE_HOURS, unit=unit))["data"]["officeHours"]
        assert as_rest(hours) == instants((await d.client.get(hours_url(unit))).json()), unit
    commune = (await gql(d, OFFICE_HOURS, unit=COMMUNE))["data"]["officeHours"]
    assert [commune[k] for k in ("unit", "windows", "sameDayCutoff", "setOn")] == [
        COMMUNE,
        UNIT_HOURS["windows"],
        "16:00",
        DISTRICT,
    ]


@pytest.fixture
async def second_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Another database for the dossiers service on the same backend (start_dossiers gives replicas one)."""
    if backend == "postgres":
        return str(await request.getfixturevalue("postgres_server").create_database(f"twin_{uuid.uuid4().hex[:12]}"))
    return f"sqlite+aiosqlite:///{tmp_path / 'twin.db'}"


async def test_graphql_sets_and_clears_hours_as_rest_does_re_dating_and_publishing_the_same(
    start_dossiers, second_database
):
    """Two services with the same dossiers: one is given the hours through REST, the other through
    GraphQL. Their dossiers and everything they publish stay identical, and the due times did move."""
    twins = []
    for database in (None, second_database):
        d = await start(
            start_dossiers, now=vn(2024, 5, 13, 10), **({"dossiers_database_url": database} if database else {})
        )
        paused, finished = [(await receive(d, TWENTY_HOURS))["ma_ho_so"] for _ in range(2)]  # due Wednesday 16:00
        d.clock.set(vn(2024, 5, 13, 15))
        await move(d, paused, 4, vn(2024, 5, 13, 10, 5))
        await move(d, paused, 5, vn(2024, 5, 13, 14))
        await move(d, finished, 4, vn(2024, 5, 13, 10, 5))
        await move(d, finished, 9, vn(2024, 5, 13, 15))
        d.clock.set(vn(2024, 5, 14, 12))
        await move(d, paused, 4, vn(2024, 5, 14, 12))
        fresh = (await receive(d, TWENTY_HOURS))["ma_ho_so"]  # at lunch: → Friday 07:30 in the default hours
        twins.append(d)
    rest, graph = twins
    keys = [paused, finished, fresh]

    put = await rest.client.put(hours_url(DISTRICT), json=UNIT_HOURS)
    assert put.status_code == 200, put.text
    answer = await gql(graph, SET_HOURS, unit=DISTRICT, input={"windows": UNIT_HOURS["windows"]})
    assert as_rest(answer["data"]["setOfficeHours"]) == instants(put.json())
    assert [due(await graph.get(key)) for key in keys] == [
        vn(2024, 5, 16, 14, 30),
        vn(2024, 5, 15, 16),
        vn(2024, 5, 16, 17),
    ]
    assert [await graph.get(key) for key in keys] == [await rest.get(key) for key in keys]
    assert await published(graph) == await published(rest)
    rescheduled = [
        e["subject"] for e in await graph.events("dossier.rescheduled") if e["data"]["reason"] == "office_hours"
    ]
    assert sorted(rescheduled) == sorted([paused, fresh])
    assert (await graph.events("calendar.changed"))[-1]["data"]["office_hours"]["set_on"] == DISTRICT
    same_again = await gql(
        graph, SET_HOURS, unit=DISTRICT, input={"windows": UNIT_HOURS["windows"], "sameDayCutoff": "15:00"}
    )
    assert same_again["data"]["setOfficeHours"]["setOn"] == DISTRICT and await published(graph) == await published(rest)

    assert (await rest.client.delete(hours_url(DISTRICT))).status_code == 204
    cleared = (await gql(graph, CLEAR_HOURS, unit=DISTRICT))["data"]["clearOfficeHours"]
    assert as_rest(cleared) == instants((await rest.client.get(hours_url(DISTRICT))).json())  # the default ones again
    assert (cleared["windows"], cleared["setOn"]) == (DEFAULT_WINDOWS, None)
    assert [due(await graph.get(key)) for key in keys] == [
        vn(2024, 5, 16, 15, 30),
        vn(2024, 5, 15, 16),
        vn(2024, 5, 17, 7, 30),
    ]
    assert [await graph.get(key) for key in keys] == [await rest.get(key) for key in keys]
    assert await published(graph) == await published(rest)


async def test_graphql_refuses_what_rest_refuses_with_the_same_codes_and_vietnamese_field_errors(start_dossiers):
    d = await start(start_dossiers)
    refused = [
        {"windows": SEVEN_WINDOWS},
        {"windows": []},
        {"windows": ["7h30-11h30"]},
        {"windows": ["13:00-17:00", "07:30-11:30"]},
        {"windows": ["07:30-11:30"], "same_day_cutoff": "16:00"},
        {"windows": ["07:30-11:30"], "same_day_cutoff": "3pm"},
    ]
    for body in refused:
        rest = (await d.client.put(hours_url(COMMUNE), json=body)).json()
        variables = {
            "windows": body["windows"],
            **({"sameDayCutoff": body["same_day_cutoff"]} if "same_day_cutoff" in body else {}),
        }
        [error] = (await gql(d, SET_HOURS, unit=COMMUNE, input=variables))["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT", error
        assert [{**e, "field": f"body.{e['field']}"} for e in error["extensions"]["errors"]] == rest["errors"]
    [too_long] = (await gql(d, SET_HOURS, unit="9" * 65, input=UNIT_HOURS))["errors"]
    assert too_long["extensions"]["errors"] == [
        {"field": "unit", "message": "Mã đơn vị dài nhất 64 ký tự.", "type": "string_too_long"}
    ]
    [empty] = (await gql(d, OFFICE_HOURS, unit=""))["errors"]
    assert empty["extensions"]["errors"] == [{"field": "unit", "message": "Cần mã đơn vị.", "type": "string_too_short"}]
    # A value of the wrong type never reaches the hours: GraphQL refuses the variable itself (not a fault of the server).
    [wrong_type] = (await gql(d, SET_HOURS, unit=COMMUNE, input={"windows": [730]}))["errors"]
    assert wrong_type["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" and "windows" in wrong_type["message"]

    [missing] = (await gql(d, CLEAR_HOURS, unit=COMMUNE))["errors"]  # DELETE's 404, as a GraphQL error
    rest_missing = (await d.client.delete(hours_url(COMMUNE))).json()
    assert (missing["extensions"]["code"], missing["message"]) == ("NOT_FOUND", rest_missing["detail"])
    no_hours = f"Đơn vị {COMMUNE} không có giờ làm việc riêng."
    assert missing["extensions"]["errors"] == rest_missing["errors"] == [{"field": "unit", "message": no_hours}]
    assert (await gql(d, OFFICE_HOURS, unit=COMMUNE))["data"]["officeHours"]["setOn"] is None  # nothing was stored
    assert await d.events("calendar.changed") == []
