"""Which office hours a unit works: its own, its nearest ancestor's, or the default ones."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from shared.calendar import OfficeHours, WorkingCalendar
from shared.unit_calendars import UnitCalendars
from shared.units import UnitRecord, UnitSnapshot


def tree(*units: tuple[str, str, str | None]) -> UnitSnapshot:
    records = (UnitRecord(code, name, (), "commune", parent, None, None, 1) for code, name, parent in units)
    return UnitSnapshot({record.code: record for record in records})


VN = timezone(timedelta(hours=7))
PROVINCE, DISTRICT, COMMUNE, DEPARTMENT = "H42", "H42.CX", "H42.CX.CQ", "H42.CX.TP"
UNITS = tree(
    (PROVINCE, "UBND tỉnh Hà Tĩnh", None),
    (DISTRICT, "UBND huyện Cẩm Xuyên", PROVINCE),
    (COMMUNE, "UBND xã Cẩm Quang", DISTRICT),
    (DEPARTMENT, "Phòng Tư pháp huyện Cẩm Xuyên", DISTRICT),
    ("LOOP.A", "A", "LOOP.B"),
    ("LOOP.B", "B", "LOOP.A"),
)
DISTRICT_HOURS = OfficeHours.from_text(["07:30-11:30", "13:00-17:00"], "15:00")
DEPARTMENT_HOURS = OfficeHours.from_text(["08:00-12:00", "13:00-17:00"], "16:00")


def test_a_unit_works_its_own_hours_else_its_nearest_ancestors_else_the_default():
    calendars = UnitCalendars(WorkingCalendar(), {DISTRICT: DISTRICT_HOURS, DEPARTMENT: DEPARTMENT_HOURS}, UNITS)
    assert [calendars.hours_set_on(u) for u in (PROVINCE, DISTRICT, COMMUNE, DEPARTMENT, "UNKNOWN", "LOOP.A", None)] == [
        None, DISTRICT, DISTRICT, DEPARTMENT, None, None, None,
    ]  # fmt: skip


def test_a_unit_counts_time_from_the_opening_of_the_hours_it_works():
    calendars = UnitCalendars(WorkingCalendar(), {DISTRICT: DISTRICT_HOURS, DEPARTMENT: DEPARTMENT_HOURS}, UNITS)
    dawn = datetime(2024, 5, 13, 6, tzinfo=VN)  # a Monday, before any office opens
    starts = [calendars.of(u).start_of_count(dawn).time() for u in (PROVINCE, COMMUNE, DEPARTMENT, COMMUNE)]
    assert starts == [time(7, 0), time(7, 30), time(8, 0), time(7, 30)]  # default, district's, own; asked again


def test_hours_set_or_withdrawn_leave_the_other_units_alone():
    calendars = UnitCalendars(WorkingCalendar(), {DISTRICT: DISTRICT_HOURS}, UNITS)
    provincial = calendars.with_hours(PROVINCE, DEPARTMENT_HOURS)
    assert [provincial.hours_set_on(u) for u in (PROVINCE, DISTRICT, COMMUNE)] == [PROVINCE, DISTRICT, DISTRICT]
    withdrawn = provincial.with_hours(DISTRICT, None)
    assert [withdrawn.hours_set_on(u) for u in (PROVINCE, DISTRICT, COMMUNE)] == [PROVINCE, PROVINCE, PROVINCE]
    assert calendars.hours_set_on(PROVINCE) is None  # the original is untouched
