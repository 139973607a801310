"""Reporting periods: a year ``2024``, a half ``2024-H1``, a quarter ``2024-Q1`` or a month ``2024-03``.

Every period is a run of whole months in Vietnam time, so the read model keeps monthly counters
and a longer period is their sum. A month is numbered ``year * 12 + month - 1`` (its *index*).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from shared.clock import VN_OFFSET, VN_TZ

_PATTERN = re.compile(r"^(\d{4})(?:-(H|Q)?(\d{1,2}))?$")
KINDS = {"H": ("half", 6, 2), "Q": ("quarter", 3, 4)}


class PeriodError(ValueError):
    """The text is not a period, or names one that does not exist (``2024-Q5``, ``2024-13``)."""


@dataclass(frozen=True, order=True)
class Period:
    first: int  # month index of the first month
    months: int  # how many months
    text: str

    @property
    def kind(self) -> str:
        return {1: "month", 3: "quarter", 6: "half", 12: "year"}[self.months]

    @property
    def last(self) -> int:
        return self.first + self.months - 1

    @property
    def end_index(self) -> int:
        """The month index just after the period."""
        return self.first + self.months

    @property
    def start(self) -> datetime:
        return month_start(self.first)

    @property
    def end(self) -> datetime:
        return month_start(self.end_index)

    def contains(self, month: int) -> bool:
        return self.first <= month <= self.last


def parse_period(text: str) -> Period:
    match = _PATTERN.match(text.strip())
    if not match:
        raise PeriodError(f"{text!r} is not a period: write 2024, 2024-H1, 2024-Q1 or 2024-03")
    year, letter, number = int(match[1]), match[2], match[3]
    if number is None:
        return Period(year * 12, 12, f"{year}")
    n = int(number)
    if letter is None:
        if not 1 <= n <= 12 or len(number) != 2:
            raise PeriodError(f"{text!r}: a month is 01 to 12")
        return Period(year * 12 + n - 1, 1, f"{year}-{n:02d}")
    kind, length, count = KINDS[letter]
    if not 1 <= n <= count:
        raise PeriodError(f"{text!r}: a {kind} is {letter}1 to {letter}{count}")
    return Period(year * 12 + (n - 1) * length, length, f"{year}-{letter}{n}")


_VN_SHIFT = VN_OFFSET.utcoffset(None)


def month_index(instant: datetime) -> int:
    """The index of the month ``instant`` falls in, Vietnam time. An aware instant since 1976 is
    shifted by its offset's difference to +07:00: the same month as ``astimezone(VN_TZ)`` gives, at
    a third of its cost (the consumer asks a few times per event)."""
    offset = instant.utcoffset()
    if offset is None or instant.year < 1976:
        local = instant.astimezone(VN_TZ)
    else:
        local = instant if offset == _VN_SHIFT else instant + (_VN_SHIFT - offset)
    return local.year * 12 + local.month - 1


def month_start(index: int) -> datetime:
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=VN_TZ)


def month_period(index: int) -> Period:
    return parse_period(f"{index // 12}-{index % 12 + 1:02d}")


def periods_of_month(index: int) -> list[Period]:
    """The month, quarter, half-year and year a month belongs to."""
    year, month = divmod(index, 12)
    return [
        month_period(index),
        parse_period(f"{year}-Q{month // 3 + 1}"),
        parse_period(f"{year}-H{month // 6 + 1}"),
        parse_period(f"{year}"),
    ]


def elapsed_share(period: Period, now: datetime) -> float:
    """How much of the period has passed at ``now``: 0 before it, 1 after it."""
    if now <= period.start:
        return 0.0
    if now >= period.end:
        return 1.0
    return (now - period.start) / (period.end - period.start)
