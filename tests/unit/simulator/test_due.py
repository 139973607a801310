"""The cached due times are exactly the working-time calendar's."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from shared.calendar import DurationUnit, WorkingCalendar
from shared.clock import VN_TZ
from simulator.catalogue import PROCEDURES
from simulator.due import DueTimes

CAL = WorkingCalendar()
DURATIONS = sorted({(p.amount, p.unit, p.same_day_cutoff) for p in PROCEDURES}) + [
    (4, DurationUnit.working_hours, False),
    (3, DurationUnit.working_hours, True),
    (0, DurationUnit.working_hours, False),
]


def receipts() -> list[datetime]:
    """Random instants over the 2024 holidays (Giỗ Tổ, 30/4–1/5, the working Saturday 4/5), plus every
    window edge and the cut-off, to the minute and just around it."""
    rng = random.Random(7)
    start = datetime(2024, 4, 10, tzinfo=VN_TZ)
    moments = [start + timedelta(seconds=rng.randrange(40 * 86_400)) for _ in range(3000)]
    for day in range(10, 30):
        for hour, minute in ((7, 0), (11, 30), (13, 30), (15, 0), (17, 0), (6, 59), (12, 0)):
            edge = datetime(2024, 4, day, hour, minute, tzinfo=VN_TZ)
            moments += [edge - timedelta(seconds=1), edge, edge + timedelta(seconds=1)]
    return moments


@pytest.mark.parametrize(("amount", "unit", "same_day"), DURATIONS)
def test_due_times_equal_the_calendar(amount, unit, same_day):
    cached = DueTimes(CAL)
    for received in receipts():
        start, due = cached.count(received, amount, unit, same_day=same_day)
        assert start == CAL.start_of_count(received, same_day=same_day)
        assert due == CAL.add(received, amount, unit, same_day=same_day), (received, amount, unit)


def test_the_worked_example():
    received = datetime(2024, 4, 15, 20, tzinfo=VN_TZ)
    assert DueTimes(CAL).count(received, 15, DurationUnit.working_days) == (
        datetime(2024, 4, 16, 7, tzinfo=VN_TZ),
        datetime(2024, 5, 9, 17, tzinfo=VN_TZ),
    )
