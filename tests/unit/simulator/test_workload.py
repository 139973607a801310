"""The generated dossiers: national format, gapless codes, the calendar's due times, coherent lives."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime

import pytest

from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ
from simulator.catalogue import AGENCIES, PROCEDURES, load_procedures
from simulator.workload import ProvincialWorkload

CAL = WorkingCalendar()
START = datetime(2024, 4, 10, 9, 30, tzinfo=VN_TZ)
CODE = re.compile(r"^(?P<agency>\d{3}\.\d{2}\.\d{2}\.H\d{2})-(?P<day>\d{6})-(?P<number>\d{4,})$")
FIELDS = {
    "MaHoSo",
    "MaTTHC",
    "TenTTHC",
    "MaLinhVuc",
    "TenLinhVuc",
    "KenhThucHien",
    "ChuHoSo",
    "SoGiayToChuHoSo",
    "LoaiDoiTuong",
    "MaDoiTuong",
    "Email",
    "SoDienThoai",
    "TrichYeuHoSo",
    "NgayNopHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "TrangThaiHoSo",
    "NgayTra",
    "HinhThuc",
    "NgayKetThucXuLy",
    "NgayTuChoi",
    "DonViXuLy",
    "NoiNopHoSo",
    "HoSoCoThanhPhanSoHoa",
    "TaiKhoanDuocXacThucVoiVNeID",
    "DuocThanhToanTrucTuyen",
    "TaiLieuNop",
    "DanhSachLePhi",
    "DanhSachHoSoBoSung",
    "DanhSachGiayToKetQua",
}
BY_CODE = {p.ma_tthc: p for p in PROCEDURES}


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ)


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(ProvincialWorkload(3, CAL).dossiers(6000, START))


def test_the_catalogue_ships_twenty_procedures_for_the_service_catalogue():
    rows = json.loads((load_procedures.__defaults__[0]).read_text(encoding="utf-8"))
    assert len(rows) == len(PROCEDURES) == 20
    assert {"ma_tthc", "name", "field_code", "field_name", "amount", "unit", "same_day_cutoff", "fees", "level"} <= set(
        rows[0]
    )
    assert all(set(fee) == {"code", "name", "amount"} for row in rows for fee in row["fees"])
    assert {p.unit for p in PROCEDURES} == {"working_days", "working_hours", "days"}
    assert all(any(a.handles(p) for a in AGENCIES) for p in PROCEDURES)


def test_records_carry_every_national_field(records):
    assert all(FIELDS <= set(r) for r in records)
    assert all(re.fullmatch(r"\d{14}", r["NgayNopHoSo"]) and at(r["NgayNopHoSo"]) >= START for r in records)


def test_codes_follow_the_pattern_and_count_gaplessly_per_agency_and_day(records):
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for record in records:
        match = CODE.match(record["MaHoSo"])
        assert match, record["MaHoSo"]
        assert match["day"] == record["NgayNopHoSo"][2:8]
        numbers[(match["agency"], match["day"])].append(int(match["number"]))
    assert all(found == list(range(1, len(found) + 1)) for found in numbers.values())
    assert len({a for a, _ in numbers}) == len(AGENCIES)


def test_due_times_are_the_calendars_and_supplements_move_them_by_the_time_waited(records):
    supplemented = 0
    for record in records:
        if not record["NgayTiepNhan"]:
            continue
        procedure = BY_CODE[record["MaTTHC"]]
        due = CAL.add(at(record["NgayTiepNhan"]), procedure.amount, procedure.unit, same_day=procedure.same_day_cutoff)
        requests = record["DanhSachHoSoBoSung"]
        if not requests or not requests[0]["NgayTiepNhanBoSung"]:
            assert at(record["NgayHenTra"]) == due
            continue
        supplemented += 1
        request = requests[0]
        waited = CAL.elapsed(at(request["NgayBoSung"]), at(request["NgayTiepNhanBoSung"]))
        assert at(request["NgayHenTraTruoc"]) == due
        assert at(request["NgayHenTraMoi"]) == at(record["NgayHenTra"]) == CAL.add_working_time(due, waited)
    assert supplemented > 100


def test_statuses_agree_with_the_dates(records):
    for r in records:
        status = r["TrangThaiHoSo"]
        if status == 3:
            assert r["NgayTuChoi"] and not r["NgayTiepNhan"] and r["KenhThucHien"] != 1
            continue
        assert at(r["NgayNopHoSo"]) <= at(r["NgayTiepNhan"])
        assert bool(r["DanhSachGiayToKetQua"]) == (status in (9, 10))
        if status in (7, 8, 9, 10):
            assert at(r["NgayTiepNhan"]) < at(r["NgayKetThucXuLy"])
        if status == 10:
            assert at(r["NgayKetThucXuLy"]) < at(r["NgayTra"])
        else:
            assert not r["NgayTra"]


def test_the_mix_looks_like_a_province(records):
    channels = Counter(r["KenhThucHien"] for r in records)
    statuses = Counter(r["TrangThaiHoSo"] for r in records)
    assert channels[2] > channels[1] > channels[3] > 0
    assert {3, 7, 8, 9, 10} <= set(statuses)
    finished = [r for r in records if r["TrangThaiHoSo"] in (9, 10)]
    late = sum(at(r["NgayKetThucXuLy"]) > at(r["NgayHenTra"]) for r in finished)
    assert 0.03 <= late / len(finished) <= 0.05
    paid = [r for r in records if r["DanhSachLePhi"] and r["KenhThucHien"] == 2]
    assert 0.5 < sum(r["DuocThanhToanTrucTuyen"] > 0 for r in paid) / len(paid) < 0.9
    assert sum(r["HoSoCoThanhPhanSoHoa"] for r in records) / len(records) > 0.8


def test_the_same_seed_gives_the_same_dossiers_and_another_seed_others():
    first = list(ProvincialWorkload(5, CAL).dossiers(300, START))
    assert first == list(ProvincialWorkload(5, CAL).dossiers(300, START))
    assert first != list(ProvincialWorkload(6, CAL).dossiers(300, START))
