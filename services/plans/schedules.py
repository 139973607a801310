"""Typed schedules parsed from the Vietnamese "Tiến độ" cells of plan tables.

The raw text is always kept. Conventions:

- "Trước ngày X" / "chậm nhất ngày X" means *by* X: ``due = X`` (kind ``before_date``).
  "Trước tháng 9/2024" means before September starts: ``due`` = 31/08/2024.
- Periods (month, quarter, half year, year) run from ``start`` to ``due``, the period's last day.
  A span of quarters or years ("Quý II, III/2024", "giai đoạn 2022 - 2025") covers them all.
- Recurring duties carry a ``frequency``, and optionally ``day`` and ``month``: ``month`` is the
  calendar month of the first occurrence in a year, later ones follow every 3 (quarterly), 6
  (half-yearly) months; without it the occurrences fall at period ends (31/03, 30/06...). Without
  ``day`` the due day is the month's last. "Quý III hàng năm" is yearly, due 30/09.
- Several frequencies in one cell ("6 tháng, năm", "theo quý, 6 tháng, năm") keep the finest one:
  its due dates include the coarser ones' (the year report is due with the second half-year's).
- A cell with several lines or ";"-separated parts takes the part with the earliest due date.
- Cells that start with "Theo", "Khi", "Sau khi", "Đột xuất" wait for something outside the plan:
  kind ``triggered`` with the text as ``trigger`` — unless "Theo" is followed by a frequency.
- Anything else is ``unparsed``; parsing never raises.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from services.plans.textnorm import fold, nfc


class ScheduleKind(StrEnum):
    fixed_date = "fixed_date"
    before_date = "before_date"
    month = "month"
    quarter = "quarter"
    half_year = "half_year"
    year = "year"
    ongoing = "ongoing"
    recurring = "recurring"
    triggered = "triggered"
    unparsed = "unparsed"


class Frequency(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"
    yearly = "yearly"


_STEP = {Frequency.monthly: 1, Frequency.quarterly: 3, Frequency.half_yearly: 6, Frequency.yearly: 12}


@dataclass(frozen=True)
class Schedule:
    """One schedule cell: its raw text and what it means."""

    raw: str
    kind: ScheduleKind
    start: date | None = None
    due: date | None = None
    frequency: Frequency | None = None
    day: int | None = None
    month: int | None = None
    trigger: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return {
            "raw": self.raw,
            "kind": self.kind.value,
            "start": self.start.isoformat() if self.start else None,
            "due": self.due.isoformat() if self.due else None,
            "frequency": self.frequency.value if self.frequency else None,
            "day": self.day,
            "month": self.month,
            "trigger": self.trigger,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        """The inverse of :meth:`to_json`."""
        return cls(
            raw=data["raw"],
            kind=ScheduleKind(data["kind"]),
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            due=date.fromisoformat(data["due"]) if data.get("due") else None,
            frequency=Frequency(data["frequency"]) if data.get("frequency") else None,
            day=data.get("day"),
            month=data.get("month"),
            trigger=data.get("trigger"),
        )


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_Q = r"(?:iv|iii|ii|i|[1-4])"
# "quý" (quarter) folds like "quy" of "quy định", "quy chế"...: exclude the latter.
_QUY = r"\bquy\b(?!\s+(?:dinh|che|trinh|mo|hoach|tac|pham|chuan|doi)\b)"
_YEAR = r"(?:\s*/\s*|\s+nam\s+)(\d{4})"
_NEXT_YEAR = r"\s+nam\s+sau"
_PARENS = re.compile(r"\([^)]*\)")
_TRIGGER = re.compile(r"^(theo|khi|sau khi|ngay sau khi|dot xuat)\b")
_FREQ_AFTER_THEO = re.compile(rf"^theo ({_QUY}|thang|nam|6 thang|hang)")
_ONGOING = re.compile(r"\b(thuong xuyen|lien tuc)\b")
_RECURRING = re.compile(rf"\b(hang|moi) (thang|quy|nam)\b|\bcuoi quy\b|\b6 thang, nam\b|^theo (thang\b|{_QUY})")
_BEFORE = re.compile(r"\b(truoc|cham nhat|muon nhat|han chot|khong qua|den het|den)\s*(ngay\s*)?$")
_FULL_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})|ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})")
_DAY_MONTH = re.compile(r"(?<!thang )\b(\d{1,2})(?:\s*/\s*|\s+thang\s+)(\d{1,2})\b(?!\s*/)")
_DAY = re.compile(r"ngay (\d{1,2})\b")
_MONTH = re.compile(rf"thang (\d{{1,2}})(?:{_YEAR}|({_NEXT_YEAR}))?(?!\s*/)")
_QUARTERS = re.compile(rf"\bquy ({_Q}(?:\s*(?:,|va|-)\s*{_Q})*)\b(?:{_YEAR}|({_NEXT_YEAR}))?")
_HALF = re.compile(r"6 thang (dau|cuoi) nam(?: (\d{4}))?")
_YEAR_SPAN = re.compile(r"(\d{4})\s*-\s*(\d{4})")
_YEAR_ONLY = re.compile(r"(?:^|\bnam\s+|\bhet\s+)(\d{4})\b")


def parse_schedule(text: str, year: int) -> Schedule:
    """Parse one schedule cell of a plan for ``year``; see the module docstring."""
    raw = nfc(text)
    parts = [p for p in re.split(r"[\n;]+", raw) if p.strip()]
    if len(parts) > 1:
        typed = [s for s in (_parse_part(raw, p, year) for p in parts) if s.kind is not ScheduleKind.unparsed]
        dated = [s for s in typed if s.due is not None]
        if dated:
            return min(dated, key=lambda s: s.due or date.max)
        if typed:
            return typed[0]
    return _parse_part(raw, raw, year)


def _parse_part(raw: str, part: str, year: int) -> Schedule:
    t = fold(_PARENS.sub(" ", part)).strip(" .,:-")
    if not t:
        return Schedule(raw, ScheduleKind.unparsed)
    if _TRIGGER.match(t) and not (_FREQ_AFTER_THEO.match(t) and _frequency(t)):
        return Schedule(raw, ScheduleKind.triggered, trigger=nfc(_PARENS.sub(" ", part)))
    if _ONGOING.search(t):
        return Schedule(raw, ScheduleKind.ongoing)
    if _RECURRING.search(t) or (t.startswith("dinh ky") and _frequency(t)):
        return _recurring(raw, t)
    return _dated(raw, t, year) or Schedule(raw, ScheduleKind.unparsed)


def _frequency(t: str) -> Frequency | None:
    """The finest frequency a recurring phrase names."""
    if re.search(r"\b(hang|moi|theo) thang\b", t):
        return Frequency.monthly
    if re.search(rf"{_QUY}(?!\s+{_Q}\b)", t):
        return Frequency.quarterly
    if "6 thang" in t:
        return Frequency.half_yearly
    if re.search(r"\bnam\b(?!\s+\d)", t):
        return Frequency.yearly
    return None


def _recurring(raw: str, t: str) -> Schedule:
    quarter = re.search(rf"\bquy ({_Q}) hang nam\b", t)
    if quarter:
        month = 3 * _ROMAN[quarter.group(1)]
        return Schedule(
            raw, ScheduleKind.recurring, frequency=Frequency.yearly, month=month, day=_last_day(2001, month)
        )
    frequency = _frequency(t) or Frequency.yearly
    day_month = _DAY_MONTH.search(t)
    if day_month:
        day, month = int(day_month.group(1)), int(day_month.group(2))
        return Schedule(raw, ScheduleKind.recurring, frequency=frequency, day=day, month=month)
    found = _DAY.search(t)
    last_month = 3 if frequency is Frequency.quarterly and "thang cuoi quy" in t else None
    return Schedule(
        raw, ScheduleKind.recurring, frequency=frequency, day=int(found.group(1)) if found else None, month=last_month
    )


def _dated(raw: str, t: str, year: int) -> Schedule | None:
    """Dates, months, quarters, half years and years, with or without a "before" marker."""
    if m := _FULL_DATE.search(t):
        d, mo, y = (int(g) for g in (m.group(1, 2, 3) if m.group(1) else m.group(4, 5, 6)))
        due = _safe_date(y, mo, d)
        if due is None:
            return None
        kind = ScheduleKind.before_date if _BEFORE.search(t[: m.start()]) else ScheduleKind.fixed_date
        return Schedule(raw, kind, due=due)
    if m := _DAY_MONTH.search(t):
        due = _safe_date(year, int(m.group(2)), int(m.group(1)))
        if due is None:
            return None
        kind = ScheduleKind.before_date if _BEFORE.search(t[: m.start()]) else ScheduleKind.fixed_date
        return Schedule(raw, kind, due=due)
    if m := _MONTH.search(t):
        mo = int(m.group(1))
        y = year + 1 if m.group(3) else int(m.group(2) or year)
        if not 1 <= mo <= 12:
            return None
        if re.search(r"\btruoc\s*$", t[: m.start()]):
            first = date(y, mo, 1)
            return Schedule(raw, ScheduleKind.before_date, due=date.fromordinal(first.toordinal() - 1))
        kind = ScheduleKind.before_date if _BEFORE.search(t[: m.start()]) else ScheduleKind.month
        return Schedule(raw, kind, start=date(y, mo, 1) if kind is ScheduleKind.month else None, due=_end(y, mo))
    if m := _QUARTERS.search(t):
        quarters = [_ROMAN[q] for q in re.findall(_Q, m.group(1))]
        y = year + 1 if m.group(3) else int(m.group(2) or year)
        return Schedule(
            raw, ScheduleKind.quarter, start=date(y, 3 * min(quarters) - 2, 1), due=_end(y, 3 * max(quarters))
        )
    if m := _HALF.search(t):
        y = int(m.group(2) or year)
        first_half = m.group(1) == "dau"
        return Schedule(
            raw, ScheduleKind.half_year, start=date(y, 1 if first_half else 7, 1), due=_end(y, 6 if first_half else 12)
        )
    return _years(raw, t, year)


def _years(raw: str, t: str, year: int) -> Schedule | None:
    if m := _YEAR_SPAN.search(t):
        first, last = int(m.group(1)), int(m.group(2))
        if first <= last:
            return Schedule(raw, ScheduleKind.year, start=date(first, 1, 1), due=date(last, 12, 31))
    y: int | None = None
    if m := _YEAR_ONLY.search(t):
        y = int(m.group(1))
    elif re.search(r"\bnam sau\b", t):
        y = year + 1
    elif re.fullmatch(r"(trong |ca )?nam( nay)?", t):
        y = year
    if y is None:
        return None
    if re.match(r"(den het|truoc|cham nhat)\b", t):
        return Schedule(raw, ScheduleKind.before_date, due=date(y, 12, 31))
    return Schedule(raw, ScheduleKind.year, start=date(y, 1, 1), due=date(y, 12, 31))


def occurrences(schedule: Schedule, start: date, end: date) -> list[date]:
    """The due dates of ``schedule`` within ``[start, end]``, in order."""
    if schedule.kind is ScheduleKind.recurring and schedule.frequency is not None:
        step = _STEP[schedule.frequency]
        first = schedule.month or step
        months = sorted({(first - 1 + k * step) % 12 + 1 for k in range(12 // step)})
        found = []
        for y in range(start.year, end.year + 1):
            for mo in months:
                due = date(y, mo, min(schedule.day or 31, _last_day(y, mo)))
                if start <= due <= end:
                    found.append(due)
        return found
    if schedule.due is not None and start <= schedule.due <= end:
        return [schedule.due]
    return []


def due_dates(schedule: Schedule | None, year: int) -> list[date]:
    """What a node with ``schedule`` in a plan of ``year`` owes: one date per period of the year
    for a recurring duty, else its due date if it has one."""
    if schedule is None:
        return []
    if schedule.kind is ScheduleKind.recurring:
        return occurrences(schedule, date(year, 1, 1), date(year, 12, 31))
    return [schedule.due] if schedule.due is not None else []


def _last_day(y: int, mo: int) -> int:
    return calendar.monthrange(y, mo)[1]


def _end(y: int, mo: int) -> date:
    return date(y, mo, _last_day(y, mo))


def _safe_date(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d)
    except ValueError:
        return None
