"""QĐ 766 judgement of finished dossiers and the alarm plan of open ones."""

from __future__ import annotations

from datetime import datetime

from services.dossiers.codes import Timeliness
from services.dossiers.rules import rule_set_at
from services.dossiers.timeliness import DUE_SOON, OVERDUE, OVERDUE_AFTER_APOLOGY, judge, next_alarm, open_timeliness
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ

CAL = WorkingCalendar()
DUE = datetime(2024, 5, 13, 16, 0, tzinfo=VN_TZ)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def test_finished_dossiers_are_early_on_time_or_late():
    assert judge(vn(2024, 5, 10, 15, 30), DUE, 1) is Timeliness.early
    assert judge(vn(2024, 5, 13, 9, 0), DUE, 0) is Timeliness.on_time
    assert judge(DUE, DUE, 0) is Timeliness.on_time
    assert judge(vn(2024, 5, 13, 16, 1), DUE, 0) is Timeliness.late
    assert judge(vn(2024, 5, 1, 9, 0), DUE, 2) is Timeliness.late  # a second supplement request


def test_open_dossiers_move_from_on_track_to_due_soon_to_overdue():
    deadline = vn(2024, 5, 10, 16, 0)  # one working day before Monday 16:00 is Friday 16:00
    assert open_timeliness(vn(2024, 5, 10, 15, 59), DUE, CAL) is Timeliness.open_on_track
    assert open_timeliness(deadline, DUE, CAL) is Timeliness.open_due_soon
    assert open_timeliness(DUE, DUE, CAL) is Timeliness.open_overdue
    assert next_alarm(vn(2024, 5, 1, 8, 0), DUE, apologised=False, calendar=CAL) == (deadline, DUE_SOON)
    assert next_alarm(vn(2024, 5, 14, 8, 0), DUE, apologised=False, calendar=CAL) == (DUE, OVERDUE)
    assert next_alarm(vn(2024, 5, 1, 8, 0), DUE, apologised=True, calendar=CAL) == (DUE, OVERDUE_AFTER_APOLOGY)


def test_the_rule_set_follows_the_day_of_receipt_in_vietnam():
    assert rule_set_at(vn(2025, 6, 30, 23, 59)).code == "nd61_2018"
    assert rule_set_at(vn(2025, 7, 1, 0, 0)).code == "nd118_2025"
    assert (
        rule_set_at(datetime.fromisoformat("2025-06-30T17:30:00+00:00")).code == "nd118_2025"
    )  # 00:30 on 1/7 in Hà Nội
