"""Due instants from a :class:`WorkingCalendar`, cached so that millions of dossiers stay cheap.

A start inside an office window and the due instant of a working-time duration move together,
minute for minute, until one of them reaches a window's end. So per (duration, day, window) a few
anchors computed by the calendar itself give every other due instant by a shift: the results are
the calendar's, at the cost of a dictionary lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from shared.calendar import DurationUnit, WorkingCalendar

# (anchor start, the calendar's due for it, that due moved off a window's end): a start ``s`` at or
# after the anchor and before the next one is due at ``moved + (s - anchor)`` (``due`` when equal)
_Anchor = tuple[datetime, datetime, datetime]


@dataclass(frozen=True)
class _RememberingCalendar(WorkingCalendar):
    """The same calendar, remembering which days are worked (asked millions of times here)."""

    _days: dict[date, bool] = field(default_factory=dict, repr=False, compare=False)

    def is_working_day(self, day: date) -> bool:
        working = self._days.get(day)
        if working is None:
            working = self._days[day] = super().is_working_day(day)
        return working


def remembering(calendar: WorkingCalendar) -> WorkingCalendar:
    """``calendar`` with its working days memoised (a subclass of it is left as it is)."""
    if type(calendar) is not WorkingCalendar:
        return calendar
    return _RememberingCalendar(**{f.name: getattr(calendar, f.name) for f in fields(WorkingCalendar)})


class DueTimes:
    """``calendar.add(received, amount, unit, same_day=...)``, memoised; :attr:`calendar` is the
    given calendar with its working days remembered, for the caller's other arithmetic too."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = remembering(calendar)
        self._by_day: dict[tuple[date, float], datetime] = {}
        self._anchors: dict[tuple[timedelta, date, int], list[_Anchor]] = {}

    def count(
        self, received: datetime, amount: float, unit: DurationUnit, *, same_day: bool = False
    ) -> tuple[datetime, datetime]:
        """When the clock starts for ``received``, and the due instant."""
        start = self.calendar.start_of_count(received, same_day=same_day)
        return start, self._due(start, amount, unit)

    def _due(self, start: datetime, amount: float, unit: DurationUnit) -> datetime:
        if unit is DurationUnit.days:
            key = (start.date(), amount)
            if key not in self._by_day:
                self._by_day[key] = self.calendar.add(start, amount, unit)
            return self._by_day[key]
        hours = self.calendar.hours
        length = timedelta(hours=amount) if unit is DurationUnit.working_hours else hours.day_length * amount
        window = next(i for i, (_, end) in enumerate(hours.windows) if start.time() < end)
        anchors = self._anchors.get((length, start.date(), window))
        if anchors is None:
            anchors = self._anchors[(length, start.date(), window)] = self._anchors_of(length, start.date(), window)
        for anchor, due, moved in reversed(anchors):
            if anchor <= start:
                return due if anchor == start else moved + (start - anchor)
        raise AssertionError("a start of count is never before its window's opening")

    def _anchors_of(self, length: timedelta, day: date, window: int) -> list[_Anchor]:
        opening, closing = (self._at(day, moment) for moment in self.calendar.hours.windows[window])
        anchors: list[_Anchor] = []
        anchor = opening
        while anchor < closing:
            due = self.calendar.add_working_time(anchor, length)
            moved = self.calendar.start_of_count(due)
            anchors.append((anchor, due, moved))
            anchor += self._window_end(moved) - moved
        return anchors

    def _window_end(self, moment: datetime) -> datetime:
        end = next(end for _, end in self.calendar.hours.windows if moment.time() < end)
        return self._at(moment.date(), end)

    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, self.calendar.tz)
