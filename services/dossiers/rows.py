"""A dossier as a row: built from a national record, merged with what is stored, and told as events.

Rows are plain dicts of column values (SQLAlchemy Core), so a batch of a thousand is one
``INSERT`` and one ``UPDATE`` statement, not a thousand ORM objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson

from services.dossiers import timeliness as t
from services.dossiers.codes import ON_TIME, PROGRESS_RANK, Origin, Status
from services.dossiers.dvcqg import HoSo
from services.dossiers.events import (
    Applicant,
    DossierDueSoon,
    DossierOverdue,
    DossierOverdueAfterApology,
    DossierReceived,
    DossierRescheduled,
    DossierResolved,
    DossierStatusChanged,
    ProcedureRef,
)
from services.dossiers.rules import rule_set_at
from shared.calendar import WorkingCalendar
from shared.events import DomainEvent

Row = dict[str, Any]


def content_hash(raw: Mapping[str, Any]) -> str:
    """Identifies a resend of the very same record."""
    return hashlib.blake2b(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str), digest_size=16).hexdigest()


def iso(instant: datetime | None) -> str | None:
    """``instant.isoformat()``, written by orjson (the same text, a third of the time)."""
    return None if instant is None else orjson.dumps(instant)[1:-1].decode()


def from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def row_from_hoso(record: HoSo, raw: Mapping[str, Any], *, unit_code: str, calendar: WorkingCalendar) -> Row:
    """The columns a synced record determines (no history, timeliness or alarm yet)."""
    supplements = [s.model_dump(mode="json", exclude_none=True) for s in record.DanhSachHoSoBoSung]
    return {
        "ma_ho_so": record.MaHoSo,
        "origin": Origin.sync.value,
        "agency": record.agency,
        "unit_code": unit_code,
        "ma_tthc": record.MaTTHC,
        "procedure_name": record.TenTTHC,
        "field_code": record.MaLinhVuc,
        "field_name": record.TenLinhVuc,
        "channel": int(record.KenhThucHien),
        "status": int(record.TrangThaiHoSo),
        "applicant_name": record.ChuHoSo,
        "applicant_id_number": record.SoGiayToChuHoSo,
        "applicant_type": None if record.LoaiDoiTuong is None else int(record.LoaiDoiTuong),
        "applicant_code": record.MaDoiTuong,
        "email": record.Email,
        "phone": record.SoDienThoai,
        "address": record.DiaChiChuHoSo,
        "summary": record.TrichYeuHoSo,
        "handling_unit_name": record.DonViXuLy,
        "submitted_place": record.NoiNopHoSo,
        "result_form": record.HinhThuc,
        "submitted_at": record.NgayNopHoSo,
        "received_at": record.NgayTiepNhan,
        "due_at": record.due_at,
        "original_due_at": record.original_due_at,
        "finished_at": record.finished_at,
        "returned_at": record.NgayTra,
        "refused_at": record.NgayTuChoi,
        "rule_set": rule_set_at(record.NgayTiepNhan or record.NgayNopHoSo).code,
        "supplement_count": len(record.DanhSachHoSoBoSung),
        "digitised": record.HoSoCoThanhPhanSoHoa,
        "vneid_verified": record.TaiKhoanDuocXacThucVoiVNeID,
        "paid_online": record.DuocThanhToanTrucTuyen,
        "documents": record.TaiLieuNop,
        "fees": record.DanhSachLePhi,
        "supplements": supplements,
        "result_papers": record.DanhSachGiayToKetQua,
        "extra": record.model_extra or {},  # fields beyond the national format, kept as sent
        "status_history": derived_history(record),
        "pauses": [pause_of(s, calendar) for s in record.DanhSachHoSoBoSung if s.NgayBoSung is not None],
        "state_at": record.state_at,
        "state_rank": PROGRESS_RANK[record.TrangThaiHoSo],
        "content_hash": content_hash(raw),
    }


def derived_history(record: HoSo) -> list[dict[str, Any]]:
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


def history_entry(status: int, at: datetime | None, source: str, **details: Any) -> dict[str, Any]:
    entry = {"status": status, "at": iso(at), "source": source}
    if details:
        entry.update({k: v for k, v in details.items() if v is not None})
    return entry


def merge_history(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {(h["status"], h["at"]) for h in old}
    merged = old + [h for h in new if (h["status"], h["at"]) not in seen]
    return sorted(merged, key=lambda h: h["at"] or "")


def pause_of(supplement: Any, calendar: WorkingCalendar) -> dict[str, Any]:
    """A supplement episode: requested, completed, and the working time the clock stood still."""
    requested, resumed = supplement.NgayBoSung, supplement.NgayTiepNhanBoSung
    paused = calendar.elapsed(requested, resumed) if resumed is not None else None
    return {
        "requested_at": iso(requested),
        "resumed_at": iso(resumed),
        "working_seconds": None if paused is None else int(paused.total_seconds()),
        "due_before": iso(supplement.NgayHenTraTruoc),
        "due_after": iso(supplement.NgayHenTraMoi),
    }


def close_pause(pauses: list[dict[str, Any]], at: datetime, calendar: WorkingCalendar) -> timedelta:
    """End the open pause at ``at``; returns the working time it lasted."""
    pause = pauses[-1]
    paused = calendar.elapsed(from_iso(pause["requested_at"]) or at, at)
    pause["resumed_at"] = iso(at)
    pause["working_seconds"] = int(paused.total_seconds())
    return paused


def judged_due(row: Mapping[str, Any]) -> datetime | None:
    """The due time a finished dossier is judged against: the one before any apology moved it."""
    apology = row.get("apology")
    return from_iso(apology["old_due_at"]) if apology else row["due_at"]


def settle(row: Row, now: datetime, calendar: WorkingCalendar) -> None:
    """Set timeliness, the next alarm and the apology deadline from the row's status, due time and apology."""
    status = Status(row["status"])
    row["alarm_at"], row["alarm_kind"], row["apology_due_at"] = None, None, None
    if status.is_finished:
        finished = row["finished_at"] or now
        row["timeliness"] = t.judge(finished, judged_due(row), row["supplement_count"]).value
        return
    if status.is_paused:  # the clock stands: judged as it stood when the applicant was asked
        asked = from_iso(row["pauses"][-1]["requested_at"]) if row["pauses"] else None
        row["timeliness"] = t.open_timeliness(min(asked or now, now), row["due_at"], calendar).value
        return
    row["timeliness"] = t.open_timeliness(now, row["due_at"], calendar).value
    if status is Status.registered:
        return  # the clock has not started: nothing falls due
    apologised = bool(row.get("apology"))
    row["alarm_at"], row["alarm_kind"] = t.next_alarm(now, row["due_at"], apologised=apologised, calendar=calendar)
    row["apology_due_at"] = t.apology_deadline(row["due_at"], apologised=apologised, calendar=calendar)


# --- events -----------------------------------------------------------------------------------


def procedure_ref(row: Mapping[str, Any]) -> ProcedureRef:
    return _procedure(row["ma_tthc"], row["procedure_name"], row["field_code"], row["field_name"])


@lru_cache(maxsize=4096)
def _procedure(code: str, name: str | None, field_code: str | None, field_name: str | None) -> ProcedureRef:
    """One immutable reference per procedure, shared by its dossiers' events (a batch has thousands)."""
    return ProcedureRef(code=code, name=name, field_code=field_code, field_name=field_name)


def received_event(row: Mapping[str, Any]) -> DossierReceived:
    return DossierReceived(
        ma_ho_so=row["ma_ho_so"],
        unit=row["unit_code"],
        procedure=procedure_ref(row),
        channel=row["channel"],
        received_at=row["received_at"],
        due_at=row["due_at"],
        rule_set=row["rule_set"],
        origin=row["origin"],
    )


def status_event(row: Mapping[str, Any], from_status: int | None, at: datetime | None) -> DossierStatusChanged:
    return DossierStatusChanged(
        ma_ho_so=row["ma_ho_so"], unit=row["unit_code"], from_status=from_status, to_status=row["status"], at=at
    )


def rescheduled_event(row: Mapping[str, Any], old_due: datetime | None, reason: str) -> DossierRescheduled:
    return DossierRescheduled(
        ma_ho_so=row["ma_ho_so"], unit=row["unit_code"], old_due_at=old_due, new_due_at=row["due_at"], reason=reason
    )


def resolved_event(row: Mapping[str, Any]) -> DossierResolved:
    documents = row["documents"]
    return DossierResolved(
        ma_ho_so=row["ma_ho_so"],
        unit=row["unit_code"],
        procedure=procedure_ref(row),
        status=row["status"],
        received_at=row["received_at"],
        finished_at=row["finished_at"],
        due_at=judged_due(row),
        timeliness=row["timeliness"],
        on_time=row["timeliness"] in ON_TIME,
        supplement_count=row["supplement_count"],
        channel=row["channel"],
        paid_online=row["paid_online"],
        has_fees=bool(row["fees"]),
        digitised=row["digitised"],
        documents_digitised=sum(1 for d in documents if d.get("DuocSoHoa") == 1),
        documents_reused=sum(1 for d in documents if d.get("DuocTaiSuDung") == 1 or d.get("DuocLayTuKhoDMQG") == 1),
        rule_set=row["rule_set"],
    )


def alarm_event(row: Mapping[str, Any], kind: str, due_at: datetime, calendar: WorkingCalendar) -> DomainEvent:
    common = {
        "ma_ho_so": row["ma_ho_so"],
        "unit": row["unit_code"],
        "procedure": procedure_ref(row),
        "channel": row["channel"],
        "applicant": Applicant(
            name=row["applicant_name"], address=row["address"], phone=row["phone"], email=row["email"]
        ),
        "received_at": row["received_at"],
        "due_at": due_at,
        "rule_set": row["rule_set"],
    }
    if kind == t.DUE_SOON:
        return DossierDueSoon(apology_deadline=calendar.one_working_day_before(due_at), **common)
    if kind == t.OVERDUE_AFTER_APOLOGY:
        apology = row["apology"] or {}
        return DossierOverdueAfterApology(
            apology_letter_id=apology.get("letter_id"), original_due_at=from_iso(apology.get("old_due_at")), **common
        )
    return DossierOverdue(**common)
