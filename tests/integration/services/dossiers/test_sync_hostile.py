"""Hostile and out-of-range input to the push API and the pull connector: the bad record is
rejected with its field, every other record of the batch is stored, and no dossier is frozen."""

from __future__ import annotations

import copy
import json
from datetime import UTC

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from services.dossiers.connectors.pull import PullConnector
from services.dossiers.models import Dossier, PullCursor
from services.dossiers.settings import DossiersSettings
from services.dossiers.sync.pulling import DatabaseSink
from tests.integration.services.dossiers.conftest import Dossiers, example
from tests.support.live_server import live_server

GOOD = example("dongbohosomc.json")["data"][0]  # received 15/04/2024 09:15, status 4
STEP = example("capnhattiendohosomc.json")["data"][0]
URL = "/dossiers/v1/sync/dvcqg"


def record(n: int, **changes: object) -> dict:
    value = copy.deepcopy(GOOD)
    value["MaHoSo"] = f"000.00.12.H42-240415-{n:04d}"
    value.update(changes)
    return value


def rejected_fields(report: dict) -> dict[int, list[str]]:
    return {r["index"]: [e["field"] for e in r["errors"]] for r in report["results"] if r["result"] == "rejected"}


async def stored_count(d: Dossiers) -> int:
    async with d.runtime["dossiers"].db.session() as session:
        return (await session.execute(select(func.count()).select_from(Dossier))).scalar_one()


async def test_a_year_one_date_rejects_its_record_and_the_99_others_are_stored(dossiers: Dossiers):
    batch = [record(n) for n in range(100)]
    batch[37] = record(37, NgayTiepNhan="00010101000000", NgayNopHoSo="00010101000000")
    report = await dossiers.push(batch)
    assert (report["created"], report["rejected"]) == (99, 1)
    assert set(rejected_fields(report)[37]) == {"NgayTiepNhan", "NgayNopHoSo"}
    assert await stored_count(dossiers) == 99


async def test_the_pull_connector_rejects_the_bad_record_of_a_page_and_moves_on(dossiers: Dossiers):
    pages = {
        "": {
            "data": [record(1), record(2, NgayTiepNhan="00010101000000"), record(3)],
            "next_cursor": "p2",
            "has_more": True,
        },
        "p2": {"data": [record(4)], "next_cursor": "p3", "has_more": False},
    }
    feed = FastAPI()

    @feed.get("/hoso")
    async def page(cursor: str = "") -> dict:
        return pages[cursor]

    async with live_server(feed) as base, httpx.AsyncClient() as client:
        connector = PullConnector(client, f"{base}/hoso", DatabaseSink(dossiers.runtime["dossiers"]), page_size=3)
        assert await connector.poll_once() == 4
    assert await stored_count(dossiers) == 3
    async with dossiers.runtime["dossiers"].db.session() as session:
        assert (await session.get(PullCursor, "dvcqg")).cursor == "p3"
    assert (await dossiers.client.get(f"/dossiers/v1/dossiers/{record(2)['MaHoSo']}")).status_code == 404


async def test_a_far_future_progress_step_is_rejected_and_later_true_updates_still_apply(dossiers: Dossiers):
    ma = record(1)["MaHoSo"]
    await dossiers.push([record(1)])
    far = {**STEP, "MaHoSo": ma, "TrangThai": 9, "ThoiDiemXuLy": "99991231235959"}
    report = await dossiers.push([far], service="CapNhatTienDoHoSoMC")
    assert rejected_fields(report) == {0: ["ThoiDiemXuLy"]}
    too_old = {**STEP, "MaHoSo": ma, "ThoiDiemXuLy": "19991231235959"}
    assert rejected_fields(await dossiers.push([too_old], service="CapNhatTienDoHoSoMC")) == {0: ["ThoiDiemXuLy"]}
    dossiers.clock.set(dossiers.clock.now().replace(day=19, hour=11))
    true = {**STEP, "MaHoSo": ma, "ThoiDiemXuLy": "20240419100000"}  # a supplement request
    report = await dossiers.push([true], service="CapNhatTienDoHoSoMC")
    assert report["updated"] == 1
    assert (await dossiers.get(ma))["status"] == 5


async def test_a_future_instant_within_the_tolerance_is_accepted_and_beyond_it_refused(start_dossiers):
    default = DossiersSettings.model_fields["dossiers_future_tolerance_hours"].default
    assert default == 24
    d = await start_dossiers(dossiers_future_tolerance_hours=default)  # now: 15/04/2024 08:00
    report = await d.push(
        [
            record(1, NgayNopHoSo="20240416075959", NgayTiepNhan="20240416075959", NgayHenTra="20240417170000"),
            record(2, NgayNopHoSo="20240416080001", NgayTiepNhan="20240416080001", NgayHenTra="20240417170000"),
        ]
    )
    assert report["created"] == 1 and rejected_fields(report) == {1: ["NgayNopHoSo", "NgayTiepNhan"]}
    assert "in the future" in report["results"][1]["errors"][0]["message"]


async def test_a_stored_implausible_instant_never_wins_over_a_true_update(dossiers: Dossiers):
    # A dossier stored before the bounds existed, stamped in year 9999, is not frozen by it.
    ma = record(1)["MaHoSo"]
    await dossiers.push([record(1)])
    async with dossiers.runtime["dossiers"].uow() as uow:
        from datetime import datetime

        frozen = datetime(9999, 12, 31, tzinfo=UTC)
        await uow.session.execute(update(Dossier).where(Dossier.ma_ho_so == ma).values(state_at=frozen))
        await uow.commit()
    dossiers.clock.set(dossiers.clock.now().replace(day=19, hour=11))
    report = await dossiers.push(
        [{**STEP, "MaHoSo": ma, "ThoiDiemXuLy": "20240419100000"}], service="CapNhatTienDoHoSoMC"
    )
    assert report["updated"] == 1 and (await dossiers.get(ma))["status"] == 5


async def test_loose_types_control_characters_long_sequences_and_huge_fees_reject_their_record(dossiers: Dossiers):
    fee = {"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "LP01", "Gia": 1e40}
    batch = [
        record(1, TrangThaiHoSo="4"),
        record(2, TrangThaiHoSo=4.0),
        record(3, TrangThaiHoSo=True),
        record(4, ChuHoSo="Trần\x00Văn Bình"),
        record(5, TrichYeuHoSo="Khai sinh \u202eexe.fdp"),
        record(6, MaHoSo="000.00.12.H42-240415-" + "1" * 30),
        record(7, DanhSachLePhi=[fee]),
        record(8, KenhThucHien="2"),
        record(9, HoSoCoThanhPhanSoHoa=True),
        record(10),  # the good one
        record(11, KenhThucHien=""),  # empty: in person, as the national format says
        record(12, DanhSachLePhi=[{**fee, "Gia": ""}, {**fee, "Gia": None}, {**fee, "Gia": 75000}]),  # empty: not set
    ]
    report = await dossiers.push(batch)
    assert rejected_fields(report) == {
        0: ["TrangThaiHoSo"],
        1: ["TrangThaiHoSo"],
        2: ["TrangThaiHoSo"],
        3: ["ChuHoSo"],
        4: ["TrichYeuHoSo"],
        5: ["MaHoSo"],
        6: ["DanhSachLePhi.0.Gia"],
        7: ["KenhThucHien"],
        8: ["HoSoCoThanhPhanSoHoa"],
    }
    assert report["created"] == 3
    messages = {r["index"]: r["errors"][0]["message"] for r in report["results"] if r["result"] == "rejected"}
    assert "control" in messages[3] and "control" in messages[4]
    assert "8 digits" in messages[5]


async def test_a_lone_surrogate_rejects_its_record_not_the_batch(dossiers: Dossiers):
    body = json.dumps(
        {"service": "DongBoHoSoMC", "isUpdating": False, "data": [record(1), record(2, ChuHoSo="X"), record(3)]}
    )
    body = body.replace('"ChuHoSo": "X"', '"ChuHoSo": "Tr\\ud800n"')
    answer = await dossiers.client.post(URL, content=body.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["created"] == 2 and rejected_fields(report) == {1: ["ChuHoSo"]}
