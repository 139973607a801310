"""Working time: which days are worked, office windows, and legal durations (docs/domain.md §3).

Durations follow the provincial one-stop systems' convention: 8 working hours per working day,
counted inside the office windows (07:00–11:30 and 13:30–17:00 by default, configurable per
unit). Working days are Monday to Friday minus Vietnamese public holidays (the ``holidays``
package, which knows the lunar holidays and the declared swaps), plus the make-up Saturdays it
knows, with administrator overrides on top (a day off, a working Saturday) that always win.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import holidays

from shared.clock import VN_TZ

MAX_DAYS_SCANNED = 3660  # ten years: a legal duration never needs more; a guard against bad input
_WINDOW = re.compile(r"^\s*(\d{2}:\d{2})\s*[-–]\s*(\d{2}:\d{2})\s*$")  # a hyphen or an en dash


class DurationUnit(StrEnum):
    working_hours = "working_hours"
    working_days = "working_days"
    days = "days"  # calendar days ("ngày"), the end pushed off a non-working day


@dataclass(frozen=True)
class OfficeHours:
    """The windows in which working time runs on a working day, and the same-day cut-off."""

    windows: tuple[tuple[time, time], ...] = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
    same_day_cutoff: time = time(15, 0)

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("office hours need at least one window")
        previous_end = time.min
        for start, end in self.windows:
            if not previous_end <= start < end:
                raise ValueError("office windows must be ordered, non-empty and not overlap")
            previous_end = end

    @classmethod
    def from_text(cls, windows: Iterable[str], same_day_cutoff: str) -> OfficeHours:
        """Office hours as people write them: ``["07:30-11:30", "13:00-17:00"]`` and ``"15:00"``."""
        return cls(tuple(parse_window(w) for w in windows), parse_moment(same_day_cutoff))

    def window_texts(self) -> list[str]:
        return [f"{start:%H:%M}-{end:%H:%M}" for start, end in self.windows]

    @cached_property
    def day_length(self) -> timedelta:
        """Working time in one working day (8 hours by default)."""
        return sum((_span(start, end) for start, end in self.windows), timedelta())

    @property
    def opening(self) -> time:
        return self.windows[0][0]

    @property
    def closing(self) -> time:
        return self.windows[-1][1]


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and working time in one time zone (Asia/Ho_Chi_Minh by default)."""

    overrides: Mapping[date, bool] = field(default_factory=dict)  # date -> working or not
    hours: OfficeHours = field(default_factory=OfficeHours)
    tz: ZoneInfo = VN_TZ
    country: str = "VN"

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _worked_by_law(self.country, day)

    def holiday_name(self, day: date) -> str | None:
        return self._holidays(day.year).get(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for candidate in _days_from(day + timedelta(days=1)):
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {MAX_DAYS_SCANNED} days after {day}")

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        for offset in range(1, MAX_DAYS_SCANNED):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {MAX_DAYS_SCANNED} days before {day}")

    def one_working_day_before(self, instant: datetime) -> datetime:
        """The apology deadline of a due time: the same time of day on the previous working day, or,
        when the office is closed at that time, the close of the last window before it (the last
        moment the office could act; the same instant in working time)."""
        local = self._local(instant)
        day, moment = self.previous_working_day(local.date()), local.time()
        opened = [end for start, end in self.hours.windows if start <= moment]
        if not opened:  # before the day's opening: the previous working day's close
            return self._at(self.previous_working_day(day), self.hours.closing)
        return self._at(day, min(moment, opened[-1]))

    def start_of_count(self, received: datetime, *, same_day: bool = False) -> datetime:
        """When the clock starts for something received at ``received``.

        Before opening: at opening; in a break: at the next window; after closing or on a
        non-working day: at the next working day's opening. With ``same_day`` (procedures
        resolved "trong ngày"), a receipt after the cut-off counts from the next working day.
        """
        local = self._local(received)
        day, moment = local.date(), local.time()
        if self.is_working_day(day):
            if same_day and moment > self.hours.same_day_cutoff:
                return self._at(self.next_working_day(day), self.hours.opening)
            for start, end in self.hours.windows:
                if moment < end:
                    return self._at(day, max(moment, start))
        return self._at(self.next_working_day(day), self.hours.opening)

    def add(self, start: datetime, amount: float, unit: DurationUnit | str, *, same_day: bool = False) -> datetime:
        """The due instant of a duration counted from ``start`` (a receipt or a paused due time)."""
        if amount < 0:
            raise ValueError("a duration cannot be negative")
        unit = DurationUnit(unit)
        if unit is DurationUnit.days:
            begin = self.start_of_count(start, same_day=same_day).date()
            end_day = begin + timedelta(days=int(amount))
            if not self.is_working_day(end_day):
                end_day = self.next_working_day(end_day)
            return self._at(end_day, self.hours.closing)
        length = timedelta(hours=amount) if unit is DurationUnit.working_hours else self.hours.day_length * amount
        return self.add_working_time(self.start_of_count(start, same_day=same_day), length)

    def add_working_time(self, start: datetime, length: timedelta) -> datetime:
        """``start`` moved forward by ``length`` of working time; a due time that lands on a
        window's close is that close (17:00), never the next opening."""
        cursor = self.start_of_count(start)
        remaining = length
        for day in _days_from(cursor.date()):
            if not self.is_working_day(day):
                continue
            for window_start, window_end in self.hours.windows:
                begin = max(self._at(day, window_start), cursor)
                end = self._at(day, window_end)
                if begin >= end:
                    continue
                if remaining <= end - begin:
                    return begin + remaining
                remaining -= end - begin
        raise ValueError(f"duration {length} does not fit in {MAX_DAYS_SCANNED} days")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (the inverse of :meth:`add_working_time`)."""
        begin, finish = self._local(start), self._local(end)
        if finish <= begin:
            return timedelta()
        total = timedelta()
        for day in _days_from(begin.date()):
            if day > finish.date():
                break
            if not self.is_working_day(day):
                continue
            for window_start, window_end in self.hours.windows:
                overlap = min(self._at(day, window_end), finish) - max(self._at(day, window_start), begin)
                if overlap > timedelta():
                    total += overlap
        return total

    def non_working_weekdays(self, year: int) -> list[tuple[date, str | None]]:
        """Monday–Friday days off in ``year`` with their names (overrides included)."""
        return [
            (day, self.holiday_name(day)) for day in _year(year) if day.weekday() < 5 and not self.is_working_day(day)
        ]

    def working_weekend_days(self, year: int) -> list[date]:
        """Saturdays and Sundays worked in ``year`` (make-up days and overrides)."""
        return [day for day in _year(year) if day.weekday() >= 5 and self.is_working_day(day)]

    def _holidays(self, year: int) -> holidays.HolidayBase:
        return _country_holidays(self.country, year)

    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("working-time arithmetic needs timezone-aware instants")
        return instant.astimezone(self.tz)

    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, self.tz)


def parse_window(text: str) -> tuple[time, time]:
    """``"07:30-11:30"`` → (07:30, 11:30); ValueError when it is not written so."""
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window HH:MM-HH:MM")
    return parse_moment(match[1]), parse_moment(match[2])


def parse_moment(text: str) -> time:
    """``"15:00"`` → 15:00; ValueError unless it is a time of day HH:MM."""
    if not re.fullmatch(r"\d{2}:\d{2}", text.strip()):
        raise ValueError(f"{text!r} is not a time HH:MM")
    return time.fromisoformat(text.strip())


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


@lru_cache(maxsize=8192)
def _worked_by_law(country: str, day: date) -> bool:
    """A weekday that is no holiday, or a weekend day made a working day (asked for every
    instant a batch of dossiers is dated with, so it is remembered)."""
    calendar = _country_holidays(country, day.year)
    if day in calendar.weekend_workdays:
        return True
    return day.weekday() < 5 and day not in calendar


def _span(start: time, end: time) -> timedelta:
    return datetime.combine(date.min, end) - datetime.combine(date.min, start)


def _days_from(first: date) -> Iterator[date]:
    for offset in range(MAX_DAYS_SCANNED):
        yield first + timedelta(days=offset)


def _year(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)
