"""The provincial push API: DongBoHoSoMC/CapNhatTienDoHoSoMC upserts, per-record answers, order tolerance."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime

import pytest

from services.dossiers.sync.ingest import Outcome, ingest_dossiers
from shared.clock import VN_TZ
from tests.integration.services.dossiers.conftest import Dossiers, example

BATCH = example("dongbohosomc.json")["data"]
OPEN, FINISHED = BATCH[0]["MaHoSo"], BATCH[1]["MaHoSo"]


async def wait_for_events(d: Dossiers, kind: str, count: int = 1) -> list[dict]:
    for _ in range(200):
        events = await d.events(kind)
        if len(events) >= count:
            return events
        await asyncio.sleep(0.01)
    return await d.events(kind)


async def test_the_worked_example_is_stored_with_its_pause_moved_due_and_on_time_finish(dossiers: Dossiers):
    report = await dossiers.push(BATCH)
    assert (report["created"], report["rejected"]) == (2, 0)
    assert [r["result"] for r in report["results"]] == ["created", "created"]

    d = await dossiers.get(FINISHED)
    assert d["status"] == 10 and d["status_label"] == "Đã trả kết quả"
    assert datetime.fromisoformat(d["received_at"]) == datetime(2024, 4, 16, 7, tzinfo=VN_TZ)
    assert datetime.fromisoformat(d["original_due_at"]) == datetime(2024, 5, 9, 17, tzinfo=VN_TZ)
    assert datetime.fromisoformat(d["due_at"]) == datetime(2024, 5, 13, 16, tzinfo=VN_TZ)
    assert d["timeliness"] == "early" and d["on_time"] is True  # finished 10/05, a working day before the due day
    [pause] = d["pauses"]
    assert pause["working_seconds"] == 15 * 3600
    assert [s["status"] for s in d["status_history"]] == [1, 2, 5, 4, 9, 10]
    assert [c["reason"] for c in d["due_history"]] == ["initial", "supplement"]
    assert d["unit"] == "000.00.12.H42" and d["rule_set"] == "nd61_2018"
    assert d["extra"] == {}

    [resolved] = await dossiers.events("dossier.resolved")
    assert resolved["subject"] == FINISHED
    assert resolved["data"]["timeliness"] == "early" and resolved["data"]["on_time"] is True
    assert resolved["data"]["supplement_count"] == 1
    assert resolved["data"]["documents_reused"] == 1 and resolved["data"]["has_fees"] is True
    assert {e["subject"] for e in await dossiers.events("dossier.received")} == {OPEN, FINISHED}


async def test_unknown_fields_are_kept(dossiers: Dossiers):
    await dossiers.push(BATCH[:1])
    assert (await dossiers.get(OPEN))["extra"] == {"DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": "040089000321"}]}


async def test_a_resend_is_unchanged_and_publishes_nothing_more(dossiers: Dossiers):
    await dossiers.push(BATCH)
    before = len(await dossiers.events())
    report = await dossiers.push(BATCH)
    assert (report["unchanged"], report["created"], report["updated"]) == (2, 0, 0)
    assert len(await dossiers.events()) == before


async def test_an_older_copy_never_overwrites_a_newer_state(dossiers: Dossiers):
    await dossiers.push(BATCH)
    older = copy.deepcopy(BATCH[1])
    older.update(TrangThaiHoSo=4, NgayKetThucXuLy="", NgayTra="", DanhSachHoSoBoSung=[])
    [result] = (await dossiers.push([older]))["results"]
    assert result["result"] == "unchanged" and "stale" in result["note"]
    d = await dossiers.get(FINISHED)
    assert d["status"] == 10 and d["timeliness"] == "early"


async def test_a_newer_copy_updates_and_tells_the_status_change_and_resolution(dossiers: Dossiers):
    await dossiers.push(BATCH)
    newer = copy.deepcopy(BATCH[0])
    newer.update(TrangThaiHoSo=9, NgayKetThucXuLy="20240416100000")  # 45 minutes after the due time
    [result] = (await dossiers.push([newer]))["results"]
    assert result["result"] == "updated"
    d = await dossiers.get(OPEN)
    assert d["status"] == 9 and d["timeliness"] == "late" and d["on_time"] is False
    [changed] = await dossiers.events("dossier.status_changed", OPEN)
    assert (changed["data"]["from_status"], changed["data"]["to_status"]) == (4, 9)
    assert (await dossiers.events("dossier.resolved", OPEN))[0]["data"]["timeliness"] == "late"


async def test_progress_records_move_the_status_and_pause_the_clock(dossiers: Dossiers):
    await dossiers.push(BATCH)
    step = {
        "MaHoSo": OPEN,
        "NguoiXuLy": "Nguyễn Văn An",
        "ChucDanh": "Công chức tư pháp - hộ tịch",
        "ThoiDiemXuLy": "20240415103000",
        "PhongBanXuLy": "UBND xã Cẩm Quang",
        "NoiDungXuLy": "Yêu cầu bổ sung giấy chứng sinh",
        "TrangThai": 5,
    }
    stale = example("capnhattiendohosomc.json")["data"][0]  # older than the finished dossier it names
    report = await dossiers.push(
        [step, stale, {**step, "MaHoSo": "000.00.12.H42-240415-0099"}], service="CapNhatTienDoHoSoMC"
    )
    assert [r["result"] for r in report["results"]] == ["updated", "unchanged", "rejected"]
    assert report["results"][2]["errors"][0]["field"] == "MaHoSo"
    d = await dossiers.get(OPEN)
    assert d["status"] == 5 and d["supplement_count"] == 1
    assert d["pauses"][0]["resumed_at"] is None
    assert d["status_history"][-1]["actor"] == "Nguyễn Văn An"
    again = await dossiers.push([step], service="CapNhatTienDoHoSoMC")
    assert again["results"][0]["result"] == "unchanged"


async def test_a_dossier_past_its_apology_deadline_on_arrival_is_due_soon_at_once(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 4, 15, 10, 0, tzinfo=VN_TZ))  # due 16/04 09:15, deadline 15/04 09:15
    await d.push(BATCH[:1])
    [due_soon] = await wait_for_events(d, "dossier.due_soon")
    assert due_soon["data"]["applicant"]["name"] == "Trần Văn Bình"
    assert datetime.fromisoformat(due_soon["data"]["due_at"]) == datetime(2024, 4, 16, 9, 15, tzinfo=VN_TZ)
    assert (await d.get(OPEN))["timeliness"] == "open_due_soon"
    assert await d.events("dossier.overdue") == []


async def test_a_dossier_already_late_on_arrival_is_overdue_at_once_and_never_due_soon(start_dossiers):
    d = await start_dossiers(now=datetime(2024, 4, 17, 8, 0, tzinfo=VN_TZ))
    await d.push(BATCH)
    [overdue] = await wait_for_events(d, "dossier.overdue")
    assert overdue["subject"] == OPEN
    assert await d.events("dossier.due_soon") == []
    assert (await d.get(OPEN))["timeliness"] == "open_overdue"
    assert await d.events("dossier.overdue", FINISHED) == []  # arrived finished: only resolved


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has one writer at a time: no race
async def test_a_writer_that_loses_the_race_for_new_keys_stores_them_as_updates(dossiers: Dossiers):
    """Two transactions see the same keys free; the second one to insert finds them taken and
    redoes those records against what the first stored: no duplicate, no lost record, no
    second ``received``."""
    context = dossiers.runtime["dossiers"]
    records = [{**copy.deepcopy(BATCH[0]), "MaHoSo": f"000.00.12.H42-240416-{n:04d}"} for n in range(1, 41)]
    async with context.uow() as first, context.uow() as second:
        first_results = await ingest_dossiers(first, records[:30])
        racing = asyncio.create_task(ingest_dossiers(second, records[10:]))  # blocks on the keys the first holds
        await asyncio.sleep(0.3)
        assert not racing.done()
        await first.commit()
        second_results = await racing
        await second.commit()

    assert [r.result for r in first_results] == [Outcome.created] * 30
    assert [r.result for r in second_results] == [Outcome.unchanged] * 20 + [Outcome.created] * 10
    received = await dossiers.events("dossier.received")
    assert sorted(e["subject"] for e in received) == sorted(r["MaHoSo"] for r in records)
