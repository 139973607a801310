"""Bad input to the push API: a field-level error per record, the rest stored, nothing half written."""

from __future__ import annotations

import copy

from tests.integration.services.dossiers.conftest import Dossiers, example

GOOD = example("dongbohosomc.json")["data"][0]


def variant(n: int, **changes: object) -> dict:
    record = copy.deepcopy(GOOD)
    record["MaHoSo"] = f"000.00.12.H42-240415-{n:04d}"
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


async def test_each_bad_record_is_rejected_with_its_field_and_the_good_ones_are_stored(dossiers: Dossiers):
    missing_code = variant(1)
    del missing_code["MaHoSo"]
    batch = [
        variant(100),
        variant(101, NgayTiepNhan="15/04/2024 09:15"),  # unparseable date
        variant(102, TrangThaiHoSo=11),  # unknown status code
        variant(103, KenhThucHien=9),  # unknown channel code
        variant(104, NgayHenTra="20240414170000"),  # due before receipt
        missing_code,
        variant(105, TrangThaiHoSo="đang xử lý"),  # wrong type
        variant(106, NgayTiepNhan="20240231090000"),  # not a real date
        variant(107, MaHoSo="H42-2404-1"),  # not the national pattern
        variant(100),  # duplicate inside the batch
        "not an object",
        variant(108, TrangThaiHoSo=9),  # finished without an end of processing
        variant(109),
    ]
    report = await dossiers.push(batch)
    assert (report["received"], report["created"], report["rejected"]) == (13, 2, 11)
    by_index = {r["index"]: r for r in report["results"]}
    expected_fields = {
        1: "NgayTiepNhan",
        2: "TrangThaiHoSo",
        3: "KenhThucHien",
        4: "NgayHenTra",
        5: "MaHoSo",
        6: "TrangThaiHoSo",
        7: "NgayTiepNhan",
        8: "MaHoSo",
        9: "MaHoSo",
        10: "",
        11: "NgayKetThucXuLy",
    }
    for index, field in expected_fields.items():
        result = by_index[index]
        assert result["result"] == "rejected", index
        assert field in [e["field"] for e in result["errors"]], (index, result)
        assert all(e["message"] for e in result["errors"])
    assert "duplicate" in by_index[9]["errors"][0]["message"]
    assert "before NgayTiepNhan" in by_index[4]["errors"][0]["message"]
    assert [by_index[0]["result"], by_index[12]["result"]] == ["created", "created"]
    assert {e["subject"] for e in await dossiers.events("dossier.received")} == {
        variant(100)["MaHoSo"],
        variant(109)["MaHoSo"],
    }
    missing = await dossiers.client.get(f"/dossiers/v1/dossiers/{variant(104)['MaHoSo']}")
    assert missing.status_code == 404


async def test_a_body_that_is_not_a_batch_is_a_problem_naming_the_field(dossiers: Dossiers):
    url = "/dossiers/v1/sync/dvcqg"
    broken = await dossiers.client.post(
        url, content=b'{"service": "DongBoHoSoMC", "data": [', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.headers["content-type"] == "application/problem+json"
    wrong = await dossiers.client.post(url, json={"service": "LayDanhSach", "data": {}, "isUpdating": "yes"})
    assert wrong.status_code == 400
    assert {e["field"] for e in wrong.json()["errors"]} == {"service", "data", "isUpdating"}


async def test_oversized_bodies_and_batches_are_refused_whole(start_dossiers):
    d = await start_dossiers(dossiers_sync_max_bytes=20_000, dossiers_sync_max_records=3)
    url = "/dossiers/v1/sync/dvcqg"
    big = await d.client.post(url, json={"service": "DongBoHoSoMC", "data": [variant(i) for i in range(40)]})
    assert big.status_code == 413 and big.json()["code"] == "body_too_large"
    many = await d.client.post(url, json={"service": "DongBoHoSoMC", "data": [variant(i) for i in range(4)]})
    assert many.status_code == 413 and many.json()["code"] == "batch_too_large"
    assert await d.events() == []


async def test_a_null_result_form_is_read_as_not_set(dossiers: Dossiers):
    report = await dossiers.push([{**variant(200), "HinhThuc": None}, variant(201, HinhThuc=100)])
    assert [r["result"] for r in report["results"]] == ["created", "rejected"]
    assert report["results"][1]["errors"][0]["field"] == "HinhThuc"
