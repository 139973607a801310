"""The QĐ 766 on-time rule of a finished dossier, one case per clause (docs/domain.md §4)."""

from __future__ import annotations

from datetime import datetime

from shared.clock import VN_TZ
from shared.on_time import Verdict, finish_verdict


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=VN_TZ)


def test_finished_exactly_at_the_due_instant_is_on_time_and_a_second_later_is_late() -> None:
    due = at("2024-03-15", 17)
    assert finish_verdict(due, due, 0) is Verdict.on_time
    assert finish_verdict(at("2024-03-15", 17, 1), due, 0) is Verdict.late


def test_finished_on_a_day_before_the_due_day_is_early() -> None:
    assert finish_verdict(at("2024-03-14", 16), at("2024-03-15", 17), 1) is Verdict.early
    assert finish_verdict(at("2024-03-15", 8), at("2024-03-15", 17), 1) is Verdict.on_time


def test_a_second_supplement_request_is_late_and_no_due_time_is_on_time() -> None:
    assert finish_verdict(at("2024-03-01"), at("2024-03-15", 17), 2) is Verdict.late
    assert finish_verdict(at("2024-03-01"), None, 1) is Verdict.on_time
