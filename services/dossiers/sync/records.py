"""A national HoSo record as a :class:`~services.dossiers.dossier.Dossier` (no timeliness or alarm yet)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

import orjson

from services.dossiers.codes import PROGRESS_RANK, Origin, Status
from services.dossiers.dossier import Dossier, Json, history_entry, pause_record
from services.dossiers.dvcqg import HoSo
from services.dossiers.rules import rule_set_at
from shared.calendar import WorkingCalendar


def content_hash(raw: Mapping[str, Any]) -> str:
    """Identifies a resend of the very same record."""
    return hashlib.blake2b(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str), digest_size=16).hexdigest()


NATIONAL_NAMES = {
    "ma_ho_so": "MaHoSo",
    "agency": "agency",
    "ma_tthc": "MaTTHC",
    "procedure_name": "TenTTHC",
    "field_code": "MaLinhVuc",
    "field_name": "TenLinhVuc",
    "applicant_name": "ChuHoSo",
    "applicant_id_number": "SoGiayToChuHoSo",
    "applicant_code": "MaDoiTuong",
    "email": "Email",
    "phone": "SoDienThoai",
    "address": "DiaChiChuHoSo",
    "summary": "TrichYeuHoSo",
    "handling_unit_name": "DonViXuLy",
    "submitted_place": "NoiNopHoSo",
    "result_form": "HinhThuc",
    "submitted_at": "NgayNopHoSo",
    "received_at": "NgayTiepNhan",
    "due_at": "due_at",
    "original_due_at": "original_due_at",
    "finished_at": "finished_at",
    "returned_at": "NgayTra",
    "refused_at": "NgayTuChoi",
    "digitised": "HoSoCoThanhPhanSoHoa",
    "vneid_verified": "TaiKhoanDuocXacThucVoiVNeID",
    "paid_online": "DuocThanhToanTrucTuyen",
    "documents": "TaiLieuNop",
    "fees": "DanhSachLePhi",
    "result_papers": "DanhSachGiayToKetQua",
    "state_at": "state_at",
}
"""The dossier's fields a record carries as they are, by the record's (national) name."""
_as_sent = attrgetter(*NATIONAL_NAMES.values())


def dossier_of(record: HoSo, raw: Mapping[str, Any], *, unit_code: str, calendar: WorkingCalendar) -> Dossier:
    """The dossier a synced record describes, handled by ``unit_code`` in ``calendar``'s hours."""
    supplements = record.DanhSachHoSoBoSung
    return Dossier(
        **dict(zip(NATIONAL_NAMES, _as_sent(record), strict=True)),
        origin=Origin.sync.value,
        unit_code=unit_code,
        channel=int(record.KenhThucHien),
        status=int(record.TrangThaiHoSo),
        applicant_type=None if record.LoaiDoiTuong is None else int(record.LoaiDoiTuong),
        rule_set=rule_set_at(record.NgayTiepNhan or record.NgayNopHoSo).code,
        supplement_count=len(supplements),
        supplements=[s.model_dump(mode="json", exclude_none=True) for s in supplements],
        extra=record.model_extra or {},  # fields beyond the national format, kept as sent
        status_history=derived_history(record),
        pauses=[
            pause_record(s.NgayBoSung, s.NgayTiepNhanBoSung, s.NgayHenTraTruoc, s.NgayHenTraMoi, calendar)
            for s in supplements
            if s.NgayBoSung is not None
        ],
        state_rank=PROGRESS_RANK[record.TrangThaiHoSo],
        content_hash=content_hash(raw),
    )


def derived_history(record: HoSo) -> list[Json]:
    """The status steps a record's own timestamps prove."""
    steps: list[tuple[datetime | None, Status]] = [
        (record.NgayNopHoSo, Status.registered),
        (record.NgayTiepNhan, Status.received),
        (
            record.NgayTuChoi,
            Status.not_received if record.TrangThaiHoSo is Status.not_received else record.TrangThaiHoSo,
        ),
    ]
    for s in record.DanhSachHoSoBoSung:
        steps += [(s.NgayBoSung, Status.awaiting_supplement), (s.NgayTiepNhanBoSung, Status.processing)]
    if record.TrangThaiHoSo in (Status.processed, Status.returned):
        steps.append((record.NgayKetThucXuLy, Status.processed))
    if record.TrangThaiHoSo is Status.returned:
        steps.append((record.NgayTra, Status.returned))
    if record.TrangThaiHoSo in (Status.withdrawn, Status.stopped):
        steps.append((record.NgayKetThucXuLy, record.TrangThaiHoSo))
    proven = sorted(((at, status) for at, status in steps if at is not None), key=itemgetter(0))
    return [history_entry(int(status), at, "sync") for at, status in proven]
