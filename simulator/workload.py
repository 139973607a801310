"""A deterministic generator of provincial dossiers in the national sync format (docs/domain.md §2).

Dossiers arrive day by day: in person, by post and online during office hours on working days,
and online at any hour. Each one is planned in full when it arrives (a :class:`Dossier`: its
fields and the timed events of its life, 1 → 2 → 4 → (5 → 4) → 9 → 10, or 3, 7, 8), its due time
computed by the working-time calendar from the procedure's legal time and moved by the working
time a supplement request kept it waiting.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from itertools import accumulate, islice
from typing import NamedTuple

from shared.calendar import DurationUnit, WorkingCalendar
from shared.clock import VN_TZ
from simulator.catalogue import (
    AGENCIES,
    BUSINESS_NAMES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    MIDDLE_NAMES,
    PROCEDURES,
    Agency,
    Procedure,
)
from simulator.due import DueTimes

RESULT_URL = "https://igate.example.vn/ket-qua/{}.pdf"

# Shares of outcomes per dossier; the others are resolved on time and most results handed over
REFUSED = 0.02  # online or post, not accepted (3)
WITHDRAWN = 0.01  # the applicant withdraws (7)
STOPPED = 0.01  # processing stopped (8)
SUPPLEMENT = 0.07  # one request for more documents (5), then processing again (4)
LATE = 0.04  # finished after the due time
LATE_MINUTES = (60, 72 * 60)  # by how much
RETURNED = 0.92  # of the finished, the result handed over (10)
AFTER_HOURS = 0.12  # online submissions outside office hours, as a share of a working day's volume

PROGRESS_TEXT = {
    2: "Tiếp nhận hồ sơ",
    3: "Từ chối tiếp nhận hồ sơ",
    4: "Xử lý hồ sơ",
    5: "Yêu cầu bổ sung giấy tờ",
    7: "Công dân rút hồ sơ",
    8: "Dừng xử lý hồ sơ",
    9: "Hoàn thành xử lý hồ sơ",
    10: "Trả kết quả",
}
DESK_TITLE = "Công chức Bộ phận một cửa"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


class Event(NamedTuple):
    """A step in a dossier's life: when, the status it enters, the fields it sets, the due time then."""

    at: datetime
    status: int
    changes: dict[str, object]
    due: str = ""


class Dossier(NamedTuple):
    """A dossier as planned on arrival: the fields it starts with and its events in time order."""

    code: str
    fields: dict[str, object]
    events: tuple[Event, ...]
    desk_officer: str
    officer: str
    title: str
    counted_from: str

    @property
    def submitted(self) -> datetime:
        return self.events[0].at

    def state(self, reached: int | None = None) -> dict[str, object]:
        """The HoSo record after its first ``reached`` events (all of them by default)."""
        record = dict(self.fields)
        for event in self.events[:reached]:
            record.update(event.changes)
            record["TrangThaiHoSo"] = event.status
        return record

    def progress(self, index: int) -> dict[str, object]:
        """The CapNhatTienDoHoSoMC record of event ``index``."""
        event = self.events[index]
        at_desk = event.status in (2, 3)
        return {
            "MaHoSo": self.code,
            "NguoiXuLy": self.desk_officer if at_desk else self.officer,
            "ChucDanh": DESK_TITLE if at_desk else self.title,
            "ThoiDiemXuLy": stamp(event.at),
            "PhongBanXuLy": self.fields["DonViXuLy"],
            "NoiDungXuLy": PROGRESS_TEXT[event.status],
            "TrangThai": event.status,
            "NgayBatDau": self.counted_from if event.due else "",
            "NgayKetThucTheoQuyDinh": event.due,
        }


class ProvincialWorkload:
    """Dossiers of a province, the same for the same seed; ``rate`` is the mean number of dossiers
    per office hour of a working day, all agencies together."""

    def __init__(
        self,
        seed: int,
        calendar: WorkingCalendar,
        agencies: Sequence[Agency] = AGENCIES,
        procedures: Sequence[Procedure] = PROCEDURES,
        *,
        rate: float = 120.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("the arrival rate must be positive")
        self.seed, self.calendar, self.rate = seed, calendar, rate
        self._due = DueTimes(calendar)
        self._routes: dict[str, tuple[list[Agency], list[int]]] = {}
        for procedure in procedures:
            handling = [a for a in agencies if a.handles(procedure)]
            if handling:
                self._routes[procedure.ma_tthc] = (handling, list(accumulate(a.weight for a in handling)))
        self._procedures = [p for p in procedures if p.ma_tthc in self._routes]
        if not self._procedures:
            raise ValueError("no agency handles any of the procedures")
        self._procedure_weights = list(accumulate(p.weight for p in self._procedures))
        staff = random.Random(f"{seed}/staff")
        self._staff = {a.code: [_person(staff) for _ in range(3)] for a in agencies}

    def dossiers(self, count: int, start: datetime) -> Iterator[dict[str, object]]:
        """The first ``count`` dossiers submitted from ``start`` on, each in its final state."""
        return (dossier.state() for dossier in islice(self.arrivals(start), count))

    def arrivals(self, start: datetime) -> Iterator[Dossier]:
        """Every dossier submitted from ``start`` on, in submission order (an endless stream)."""
        rng = random.Random(self.seed)
        day = start.astimezone(self.calendar.tz).date()
        while True:
            sequences: dict[str, int] = {}
            for moment, online_only in self._moments(rng, day):
                if moment >= start:
                    yield self._plan(rng, moment, online_only, sequences)
            day += timedelta(days=1)

    def _moments(self, rng: random.Random, day: date) -> list[tuple[datetime, bool]]:
        """Submission instants of one day, sorted; True marks those outside the office's hours."""
        hours = self.calendar.hours
        volume = self.rate * hours.day_length / timedelta(hours=1)
        moments: list[tuple[datetime, bool]] = []
        if self._due.calendar.is_working_day(day):
            windows = [
                (datetime.combine(day, start, self.calendar.tz), _seconds(start, end)) for start, end in hours.windows
            ]
            total = sum(span for _, span in windows)
            for _ in range(round(volume * rng.uniform(0.85, 1.15))):
                offset = int(rng.random() * total)
                for opening, span in windows:
                    if offset < span:
                        moments.append((opening + timedelta(seconds=offset), False))
                        break
                    offset -= span
        midnight = datetime.combine(day, datetime.min.time(), self.calendar.tz)
        for _ in range(round(volume * AFTER_HOURS * rng.uniform(0.5, 1.5))):
            moments.append((midnight + timedelta(seconds=int(rng.random() * 86_400)), True))
        moments.sort(key=lambda moment: moment[0])
        return moments

    def _plan(self, rng: random.Random, submitted: datetime, online_only: bool, sequences: dict[str, int]) -> Dossier:
        procedure = self._procedures[bisect(self._procedure_weights, rng.random() * self._procedure_weights[-1])]
        agencies, weights = self._routes[procedure.ma_tthc]
        agency = agencies[bisect(weights, rng.random() * weights[-1])]
        channel = 2 if online_only else _channel(rng, procedure)
        sequences[agency.code] = number = sequences.get(agency.code, 0) + 1
        submitted_at = stamp(submitted)
        code = f"{agency.code}-{submitted_at[2:8]}-{number:04d}"
        fields = _fields(rng, code, procedure, agency, channel, submitted_at)
        desk, officer = _pick(rng, self._staff[agency.code]), _pick(rng, self._staff[agency.code])
        events, counted_from = self._life(rng, code, procedure, channel, submitted)
        return Dossier(code, fields, events, desk, officer, procedure.officer, counted_from)

    def _life(
        self, rng: random.Random, code: str, procedure: Procedure, channel: int, submitted: datetime
    ) -> tuple[tuple[Event, ...], str]:
        calendar = self._due.calendar
        events: list[Event] = []
        received = submitted
        if channel != 1:
            events.append(Event(submitted, 1, {}))
            opened = calendar.start_of_count(submitted)
            if rng.random() < REFUSED:
                refused = opened + MINUTE * _between(rng, 5, 120)
                events.append(Event(refused, 3, {"NgayTuChoi": stamp(refused)}))
                return tuple(events), ""
            received = opened + MINUTE * _between(rng, 1, 60)
        counted, due = self._due.count(received, procedure.amount, procedure.unit, same_day=procedure.same_day_cutoff)
        counted_from = stamp(counted)
        due_at = stamp(due)
        events.append(Event(received, 2, {"NgayTiepNhan": stamp(received), "NgayHenTra": due_at}, due_at))
        working = received + min(MINUTE * _between(rng, 2, 30), (due - received) / 4)  # a short procedure starts sooner
        events.append(Event(working, 4, {}, due_at))

        outcome = rng.random()
        if outcome < WITHDRAWN + STOPPED:
            ended = calendar.start_of_count(_between_instants(rng, working, due, 0.1, 0.9))
            events.append(Event(ended, 7 if outcome < WITHDRAWN else 8, {"NgayKetThucXuLy": stamp(ended)}, due_at))
            return tuple(events), counted_from
        if rng.random() < SUPPLEMENT:
            asked = calendar.start_of_count(_between_instants(rng, working, due, 0.1, 0.5))
            waited = MINUTE if _of_minutes(procedure) else HOUR  # the applicant of a quick procedure answers quickly
            back = calendar.start_of_count(asked + waited * _between(rng, 20, 120))
            request = {
                "HoSoBoSungId": f"{code}-BS1",
                "NguoiYeuCauBoSung": procedure.officer,
                "NoiDungBoSung": f"Bổ sung {_lower_first(procedure.documents[-1])}",
                "NgayBoSung": stamp(asked),
                "NgayTiepNhanBoSung": "",
                "TrangThaiBoSung": 0,
                "NgayHenTraTruoc": due_at,
                "NgayHenTraMoi": "",
            }
            events.append(Event(asked, 5, {"DanhSachHoSoBoSung": [request]}, due_at))
            due = calendar.add_working_time(due, calendar.elapsed(asked, back))
            due_at = stamp(due)
            answered = {**request, "NgayTiepNhanBoSung": stamp(back), "TrangThaiBoSung": 1, "NgayHenTraMoi": due_at}
            events.append(Event(back, 4, {"DanhSachHoSoBoSung": [answered], "NgayHenTra": due_at}, due_at))
            working = back
        if rng.random() < (LATE if procedure.late is None else procedure.late):
            finished = calendar.start_of_count(due + MINUTE * _between(rng, *(procedure.late_minutes or LATE_MINUTES)))
        else:
            finished = calendar.start_of_count(_between_instants(rng, working, due, 0.3, 0.95))
            if finished > due:
                finished = max(working + MINUTE, due - MINUTE * _between(rng, 1, 30))
        result_id = f"{rng.getrandbits(64):016x}"
        result = {
            "TenGiayTo": procedure.result,
            "MaThanhPhanHoSo": "KQ01",
            "GiayToId": result_id,
            "DuongDanTepTinKetQua": RESULT_URL.format(result_id),
            "MaGiayToKetQua": f"KQ-{code}",
        }
        events.append(
            Event(finished, 9, {"NgayKetThucXuLy": stamp(finished), "DanhSachGiayToKetQua": [result]}, due_at)
        )
        if rng.random() < RETURNED:
            returned = calendar.start_of_count(finished + MINUTE * _between(rng, 10, 2880))
            events.append(Event(returned, 10, {"NgayTra": stamp(returned)}, due_at))
        return tuple(events), counted_from


def _of_minutes(procedure: Procedure) -> bool:
    """A procedure whose legal time is under an hour (the live demo's)."""
    return procedure.unit is DurationUnit.working_hours and procedure.amount < 1


def stamp(moment: datetime) -> str:
    """``yyyyMMddHHmmss`` in Vietnam time."""
    if moment.tzinfo is not VN_TZ:
        moment = moment.astimezone(VN_TZ)
    return _day(moment.toordinal()) + _CLOCK[moment.hour * 3600 + moment.minute * 60 + moment.second]


_CLOCK = [f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}" for s in range(86_400)]


@cache
def _day(ordinal: int) -> str:
    return date.fromordinal(ordinal).strftime("%Y%m%d")


def _channel(rng: random.Random, procedure: Procedure) -> int:
    """KenhThucHien: mostly online for procedures offered fully online."""
    online = 0.75 if procedure.online == "full" else 0.4
    draw = rng.random()
    return 2 if draw < online else 3 if draw > 0.95 else 1


def _fields(
    rng: random.Random, code: str, procedure: Procedure, agency: Agency, channel: int, submitted_at: str
) -> dict[str, object]:
    online = channel == 2
    if procedure.field_code == "G06":
        kind, applicant = 2, f"{_pick(rng, BUSINESS_NAMES)} {_pick(rng, GIVEN_NAMES)} {_pick(rng, GIVEN_NAMES)}"
        identifier = f"30{_digits(rng, 8)}"  # mã số doanh nghiệp
    else:
        kind, applicant = 1, _person(rng)
        identifier = f"042{_digits(rng, 9)}"  # số định danh cá nhân, Hà Tĩnh
    paid = 0
    if procedure.fees and online:
        draw = rng.random()
        paid = 1 if draw < 0.6 else 2 if draw < 0.75 else 0
    documents = []
    for number, name in enumerate(procedure.documents, start=1):
        digitised = online or rng.random() < 0.75
        documents.append(
            {
                "TepDinhKemId": f"{rng.getrandbits(64):016x}",
                "TenTepDinhKem": f"{name}.pdf",
                "MaThanhPhanHoSo": f"TP{number:02d}",
                "DuocSoHoa": int(digitised),
                "DuocTaiSuDung": int(rng.random() < 0.2),
                "DuocLayTuKhoDMQG": int(online and rng.random() < 0.1),
            }
        )
    email = (
        f"{_ascii(applicant.split()[-1])}{_between(rng, 1, 999)}@example.vn" if online and rng.random() < 0.6 else ""
    )
    return {
        "MaHoSo": code,
        "MaTTHC": procedure.ma_tthc,
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field_code,
        "TenLinhVuc": procedure.field_name,
        "KenhThucHien": channel,
        "ChuHoSo": applicant,
        "SoGiayToChuHoSo": identifier,
        "LoaiDoiTuong": kind,
        "MaDoiTuong": "",
        "Email": email,
        "SoDienThoai": f"09{_digits(rng, 8)}",
        "TrichYeuHoSo": f"{procedure.name} - {applicant}",
        "NgayNopHoSo": submitted_at,
        "NgayTiepNhan": "",
        "NgayHenTra": "",
        "TrangThaiHoSo": 1,
        "NgayTra": "",
        "HinhThuc": 1 if channel == 3 else 0,
        "NgayKetThucXuLy": "",
        "NgayTuChoi": "",
        "DonViXuLy": agency.name,
        "NoiNopHoSo": agency.desk,
        "HoSoCoThanhPhanSoHoa": int(any(d["DuocSoHoa"] for d in documents)),
        "TaiKhoanDuocXacThucVoiVNeID": int(online and rng.random() < 0.8),
        "DuocThanhToanTrucTuyen": paid,
        "DinhDanhCHS": [{"LoaiDinhDanh": kind, "SoDinhDanh": identifier}],
        "TaiLieuNop": documents,
        "DanhSachLePhi": [
            {
                "TenPhiLePhi": fee.name,
                "MaPhiLePhi": fee.code,
                "HinhThucThu": 2 if paid else 1,
                "Gia": fee.amount,
                "LoaiPhiLePhi": fee.kind,
            }
            for fee in procedure.fees
        ],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [],
    }


def _pick(rng: random.Random, choices: Sequence[str]) -> str:
    return choices[int(rng.random() * len(choices))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _digits(rng: random.Random, count: int) -> str:
    return f"{int(rng.random() * 10**count):0{count}d}"


def _person(rng: random.Random) -> str:
    return f"{_pick(rng, FAMILY_NAMES)} {_pick(rng, MIDDLE_NAMES)} {_pick(rng, GIVEN_NAMES)}"


def _between_instants(rng: random.Random, begin: datetime, end: datetime, low: float, high: float) -> datetime:
    """An instant a random share (``low`` to ``high``) of the way from ``begin`` to ``end``, to the second."""
    span = max((end - begin).total_seconds(), 600)
    return begin + timedelta(seconds=int(span * rng.uniform(low, high)))


def _seconds(start: object, end: object) -> int:
    return int((datetime.combine(date.min, end) - datetime.combine(date.min, start)).total_seconds())  # type: ignore[arg-type]


@cache
def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if c.isascii()).lower()


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
