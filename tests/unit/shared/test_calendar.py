"""Working-time arithmetic, checked against docs/domain.md §3 and its worked example."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.calendar import OfficeHours, WorkingCalendar, parse_window
from shared.clock import VN_TZ

CAL = WorkingCalendar()


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN_TZ)


def test_the_worked_example_of_the_provincial_sync():
    received = vn(2024, 4, 15, 20)  # Monday evening, online
    assert CAL.start_of_count(received) == vn(2024, 4, 16, 7)
    due = CAL.add(received, 15, "working_days")
    assert due == vn(2024, 5, 9, 17), "skips Giỗ Tổ 18/4, 29/4, 30/4, 1/5; counts Saturday 4/5"

    paused = CAL.elapsed(vn(2024, 4, 19, 10), vn(2024, 4, 23, 9))
    assert paused == timedelta(hours=15)
    assert CAL.add_working_time(due, paused) == vn(2024, 5, 13, 16)
    assert CAL.add(received, 120, "working_hours") == due


def test_working_days_follow_holidays_swaps_and_overrides():
    assert not CAL.is_working_day(date(2024, 4, 18))  # Giỗ Tổ Hùng Vương
    assert not CAL.is_working_day(date(2024, 4, 29))  # swapped day off
    assert CAL.is_working_day(date(2024, 5, 4))  # make-up Saturday
    assert CAL.is_working_day(date(2025, 4, 26)) and not CAL.is_working_day(date(2025, 5, 2))
    assert not CAL.is_working_day(date(2024, 2, 12))  # Tết
    assert not CAL.is_working_day(date(2024, 4, 20))  # an ordinary Saturday

    mourning = WorkingCalendar(overrides={date(2024, 7, 25): False, date(2024, 4, 20): True})
    assert not mourning.is_working_day(date(2024, 7, 25)) and mourning.is_working_day(date(2024, 4, 20))


@pytest.mark.parametrize(
    ("received", "counted_from"),
    [
        (vn(2024, 4, 16, 6, 15), vn(2024, 4, 16, 7)),  # before opening
        (vn(2024, 4, 16, 9, 40), vn(2024, 4, 16, 9, 40)),  # in a window
        (vn(2024, 4, 16, 12, 0), vn(2024, 4, 16, 13, 30)),  # lunch
        (vn(2024, 4, 16, 17, 0), vn(2024, 4, 17, 7)),  # at closing
        (vn(2024, 4, 17, 18, 0), vn(2024, 4, 19, 7)),  # evening before a holiday
        (vn(2024, 4, 20, 10, 0), vn(2024, 4, 22, 7)),  # Saturday
    ],
)
def test_the_clock_starts_at_the_next_working_moment(received, counted_from):
    assert CAL.start_of_count(received) == counted_from


def test_instants_in_other_zones_are_read_in_vietnam_time():

    utc_receipt = datetime(2024, 4, 16, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
    assert CAL.start_of_count(utc_receipt) == vn(2024, 4, 16, 8)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.start_of_count(datetime(2024, 4, 16, 8))


def test_a_due_time_on_a_window_close_is_that_close():
    assert CAL.add(vn(2024, 4, 16, 7), 8, "working_hours") == vn(2024, 4, 16, 17)
    assert CAL.add(vn(2024, 4, 16, 7), 4.5, "working_hours") == vn(2024, 4, 16, 11, 30)
    assert CAL.add(vn(2024, 4, 16, 7), 1, "working_days") == vn(2024, 4, 16, 17)


def test_same_day_procedures_move_late_receipts_to_the_next_working_day():
    assert CAL.add(vn(2024, 4, 16, 15, 30), 4, "working_hours", same_day=True) == vn(2024, 4, 17, 11)
    assert CAL.add(vn(2024, 4, 16, 14, 0), 2, "working_hours", same_day=True) == vn(2024, 4, 16, 16)
    assert CAL.add(vn(2024, 4, 16, 15, 30), 1, "working_hours") == vn(2024, 4, 16, 16, 30)


def test_calendar_days_end_on_a_working_day():
    assert CAL.add(vn(2024, 4, 16, 9), 2, "days") == vn(2024, 4, 19, 17)  # 18/4 is Giỗ Tổ: pushed to Friday
    assert CAL.add(vn(2024, 4, 15, 9), 5, "days") == vn(2024, 4, 22, 17)  # Saturday 20/4 → Monday


def test_elapsed_working_time_is_the_inverse_of_adding_it():
    start = vn(2024, 4, 12, 10, 20)
    for hours in (0.5, 3, 8, 17.25, 120):
        due = CAL.add_working_time(start, timedelta(hours=hours))
        assert CAL.elapsed(start, due) == timedelta(hours=hours)
    assert CAL.elapsed(vn(2024, 4, 16, 12), vn(2024, 4, 16, 13)) == timedelta()
    assert CAL.elapsed(vn(2024, 4, 17), vn(2024, 4, 16)) == timedelta()


def test_office_hours_are_configurable_per_unit():
    long_day = OfficeHours(windows=((time(7, 30), time(12, 0)), (time(13, 0), time(17, 30))))
    assert long_day.day_length == timedelta(hours=9)
    cal = WorkingCalendar(hours=long_day)
    assert cal.add(vn(2024, 4, 16, 7), 1, "working_days") == vn(2024, 4, 16, 17, 30)
    with pytest.raises(ValueError):
        OfficeHours(windows=((time(13, 0), time(17, 0)), (time(7, 0), time(11, 0))))


def test_a_year_lists_its_weekdays_off_and_its_working_saturdays():
    off = dict(CAL.non_working_weekdays(2025))
    assert date(2025, 5, 2) in off and date(2025, 4, 30) in off and date(2025, 4, 7) in off
    assert date(2025, 4, 26) in CAL.working_weekend_days(2025)
    assert all(d.weekday() < 5 for d in off)


def test_one_working_day_before_skips_holidays_and_weekends() -> None:
    calendar = WorkingCalendar()
    # Due Thu 09/05/2024 17:00 → Wed 08/05 17:00; due Mon 13/05/2024 16:00 → Sat 04/05 was a make-up day,
    # but Fri 10/05 is the previous working day.
    assert calendar.one_working_day_before(datetime(2024, 5, 9, 17, tzinfo=VN_TZ)) == datetime(
        2024, 5, 8, 17, tzinfo=VN_TZ
    )
    assert calendar.one_working_day_before(datetime(2024, 5, 13, 16, tzinfo=VN_TZ)) == datetime(
        2024, 5, 10, 16, tzinfo=VN_TZ
    )
    # Due Thu 02/05/2024 09:00 → 30/04 and 01/05 are holidays, Mon 29/04 was swapped off, Sat 04/05 comes after:
    # the previous working day is Fri 26/04.
    assert calendar.one_working_day_before(datetime(2024, 5, 2, 9, tzinfo=VN_TZ)) == datetime(
        2024, 4, 26, 9, tzinfo=VN_TZ
    )
    # A due time when the office is closed: the deadline is the close before the same time of day.
    assert calendar.one_working_day_before(vn(2024, 5, 13, 12)) == vn(2024, 5, 10, 11, 30)  # lunch
    assert calendar.one_working_day_before(vn(2024, 5, 13, 20)) == vn(2024, 5, 10, 17)  # evening
    assert calendar.one_working_day_before(vn(2024, 5, 14, 6)) == vn(2024, 5, 10, 17)  # before Monday's opening


UNIT_HOURS = OfficeHours.from_text(["07:30-11:30", "13:00-17:00"], "15:00")


def test_the_worked_example_of_a_unit_with_its_own_hours():
    """07:30–11:30 / 13:00–17:00, 8 working hours from Friday 10/05/2024 16:30, by hand (docs/domain.md §3):
    16:30 is inside the afternoon window, so the clock starts then; Friday gives 0.5 h (16:30–17:00),
    Monday 13/05 morning 4 h (07:30–11:30), the remaining 3.5 h run from 13:00 → due Monday 16:30.
    (Monday 16:00 would need a full hour on Friday.)"""
    cal = WorkingCalendar(hours=UNIT_HOURS)
    received = vn(2024, 5, 10, 16, 30)
    assert cal.add(received, 8, "working_hours") == vn(2024, 5, 13, 16, 30)
    assert cal.add(received, 1, "working_days") == vn(2024, 5, 13, 16, 30)
    # Half of it tells the unit's hours from the default ones (07:00–11:30 / 13:30–17:00).
    assert cal.add(received, 4, "working_hours") == vn(2024, 5, 13, 11)
    assert CAL.add(received, 4, "working_hours") == vn(2024, 5, 13, 10, 30)
    assert cal.start_of_count(vn(2024, 5, 13, 7, 10)) == vn(2024, 5, 13, 7, 30)
    assert cal.start_of_count(vn(2024, 5, 13, 12, 45)) == vn(2024, 5, 13, 13)
    assert cal.elapsed(vn(2024, 5, 10, 10), vn(2024, 5, 13, 9)) == timedelta(hours=7)  # Fri 1.5 + 4, Mon 1.5
    assert cal.elapsed(vn(2024, 5, 10, 12), vn(2024, 5, 10, 14)) == timedelta(hours=1)  # the default: 0.5 h


def test_office_hours_are_written_as_windows():
    assert UNIT_HOURS.windows == ((time(7, 30), time(11, 30)), (time(13), time(17)))
    assert UNIT_HOURS.same_day_cutoff == time(15) and UNIT_HOURS.window_texts() == ["07:30-11:30", "13:00-17:00"]
    assert parse_window(" 13:00 – 17:00 ") == (time(13), time(17))  # spaces and an en dash
    for bad in ("7:30-11:30", "07:30", "07:30-25:00", "07h30-11h30", ""):
        with pytest.raises(ValueError):
            parse_window(bad)


def test_the_apology_deadline_is_one_working_day_before_in_the_units_hours():
    short = WorkingCalendar(hours=OfficeHours.from_text(["07:30-11:30", "13:00-16:30"], "15:00"))
    due = vn(2024, 5, 13, 17)  # a provincial NgayHenTra at the default close
    assert CAL.one_working_day_before(due) == vn(2024, 5, 10, 17)
    assert short.one_working_day_before(due) == vn(2024, 5, 10, 16, 30)  # the unit closed at 16:30
    for cal in (CAL, short):
        for due in (
            vn(2024, 5, 13, 16),
            vn(2024, 5, 13, 17),
            vn(2024, 5, 13, 12),
            vn(2024, 5, 14, 6),
            vn(2024, 5, 2, 9),
        ):
            deadline = cal.one_working_day_before(due)
            assert cal.elapsed(deadline, due) == cal.hours.day_length, (cal.hours, due)
