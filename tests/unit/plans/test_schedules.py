"""Schedules parsed from the "Tiến độ" cells of the seed plans (and the forms docs/domain.md §1 lists)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from services.plans.schedules import (
    Frequency,
    Schedule,
    ScheduleKind,
    occurrences,
    parse_schedule,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "plans"
K = ScheduleKind

# Seed expressions that are not typed, each with the kind it must get. Anything else must be typed:
# a new untyped expression fails the test until it is parsed or listed here.
NOT_TYPED = {
    # The date is set by another plan, rule or body, or by an event.
    "Theo quy định của Bộ Nội vụ, Phòng Nội vụ huyện": K.triggered,
    "Theo Kế hoạch kiểm tra": K.triggered,
    "Theo tiến độ cụ thể của từng nhiệm vụ": K.triggered,
    "Theo kế hoạch của Sở Nội vụ": K.triggered,
    "Theo tiến độ triển khai của Trung ương, của tỉnh": K.triggered,
    "Theo Kế hoạch của UBND tỉnh, hướng dẫn của Sở Nội vụ": K.triggered,
    "Sau khi UBND tỉnh công bố chỉ số chỉ số CCHC cấp huyện năm 2023": K.triggered,
    "Sau khi các cơ quan liên quan công bố chỉ số DDCI năm 2023": K.triggered,
    "Theo kế hoạch thẩm định hằng năm": K.triggered,
    "Khi được tỉnh phê duyệt": K.triggered,
    "Khi có chỉ đạo của tỉnh": K.triggered,
    "Theo lộ trình đề án được tỉnh phê duyệt": K.triggered,
    "Theo quy định": K.triggered,
    "theo định kỳ": K.triggered,
    "theo lộ trình được phê duyệt": K.triggered,
    "Khi có Thông tư mới": K.triggered,
    "đột xuất": K.triggered,
    # "Periodically" with no period: the cadence is not in the text.
    "định kỳ": K.unparsed,
}


def seed_expressions() -> set[str]:
    """Every non-empty schedule cell of the four seed tables and their extractions."""
    found = set()
    for path in sorted(FIXTURES.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            found |= {row["Tiến độ"] for row in csv.DictReader(f)}
    for path in sorted(FIXTURES.glob("*_tasks.json")):
        found |= {task["schedule"] for task in json.loads(path.read_text(encoding="utf-8")) if task["schedule"]}
    return found - {""}


def test_every_seed_expression_is_typed_or_explicitly_allowed():
    expressions = seed_expressions()
    assert len(expressions) > 60
    problems = []
    for text in sorted(expressions):
        schedule = parse_schedule(text, 2024)
        assert schedule.raw == text
        expected = NOT_TYPED.get(text)
        if expected is not None and schedule.kind is not expected:
            problems.append(f"{text!r}: {schedule.kind}, listed as {expected}")
        if expected is None and schedule.kind in (K.triggered, K.unparsed):
            problems.append(f"{text!r}: {schedule.kind} but not on the allow-list")
    assert not problems, "\n".join(problems)
    assert set(NOT_TYPED) <= expressions, "the allow-list names only seed expressions"


def test_seed_schedules_agree_with_the_dates_of_the_extraction():
    """The extraction of plans 002 and 003 carries parsed periods: same start and end."""
    checked = 0
    for name in ("002_tasks.json", "003_tasks.json"):
        for task in json.loads((FIXTURES / name).read_text(encoding="utf-8")):
            parsed = task["schedule_parsed"]
            if parsed.get("kind") not in ("year", "month", "quarter", "range", "deadline"):
                continue
            schedule = parse_schedule(task["schedule"], 2024)
            assert schedule.due == date.fromisoformat(parsed["end"]), task["schedule"]
            if "start" in parsed:
                assert schedule.start == date.fromisoformat(parsed["start"]), task["schedule"]
            checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    ("text", "kind", "start", "due"),
    [
        ("Quý IV/2024", K.quarter, date(2024, 10, 1), date(2024, 12, 31)),
        ("Quý III năm 2024", K.quarter, date(2024, 7, 1), date(2024, 9, 30)),
        ("Quý 1", K.quarter, date(2024, 1, 1), date(2024, 3, 31)),
        ("QUÝ  iv / 2024", K.quarter, date(2024, 10, 1), date(2024, 12, 31)),
        ("Quý II, III/2024", K.quarter, date(2024, 4, 1), date(2024, 9, 30)),
        ("Quý I năm sau", K.quarter, date(2025, 1, 1), date(2025, 3, 31)),
        ("tổ chức thực hiện và báo cáo kết quả vào quý III", K.quarter, date(2024, 7, 1), date(2024, 9, 30)),
        ("Tháng 2/2024", K.month, date(2024, 2, 1), date(2024, 2, 29)),
        ("tháng 02/2024", K.month, date(2024, 2, 1), date(2024, 2, 29)),
        ("Tháng 12 năm 2023", K.month, date(2023, 12, 1), date(2023, 12, 31)),
        ("Tháng 1 năm sau liền kề", K.month, date(2025, 1, 1), date(2025, 1, 31)),
        ("Tháng 01/2024 (Gửi KH về Phòng Nội vụ)", K.month, date(2024, 1, 1), date(2024, 1, 31)),
        ("Hoàn thành trong tháng 1/2024", K.month, date(2024, 1, 1), date(2024, 1, 31)),
        ("6 tháng đầu năm 2024", K.half_year, date(2024, 1, 1), date(2024, 6, 30)),
        ("6 tháng cuối năm", K.half_year, date(2024, 7, 1), date(2024, 12, 31)),
        ("Trong năm 2024", K.year, date(2024, 1, 1), date(2024, 12, 31)),
        ("Cả năm 2024", K.year, date(2024, 1, 1), date(2024, 12, 31)),
        ("năm sau liền kề", K.year, date(2025, 1, 1), date(2025, 12, 31)),
        ("giai đoạn 2022 - 2025", K.year, date(2022, 1, 1), date(2025, 12, 31)),
        ("Trước 15/01/2024", K.before_date, None, date(2024, 1, 15)),
        ("Trước   ngày 05/02/2024", K.before_date, None, date(2024, 2, 5)),
        ("chậm nhất ngày 15/01/2024", K.before_date, None, date(2024, 1, 15)),
        ("Trước 31/12", K.before_date, None, date(2024, 12, 31)),
        ("Hoàn thành trước tháng 9/2024", K.before_date, None, date(2024, 8, 31)),
        ("đến hết 2024", K.before_date, None, date(2024, 12, 31)),
        ("31/12/2024", K.fixed_date, None, date(2024, 12, 31)),
        ("ngày 31 tháng 12 năm 2024", K.fixed_date, None, date(2024, 12, 31)),
        ("Thường xuyên", K.ongoing, None, None),
        ("Thường xuyên hàng năm", K.ongoing, None, None),
        ("Trước ngày 30/02/2024", K.unparsed, None, None),
        ("tháng 13/2024", K.unparsed, None, None),
        ("", K.unparsed, None, None),
        ("xem phụ lục", K.unparsed, None, None),
    ],
)
def test_periods_and_deadlines(text: str, kind: ScheduleKind, start: date | None, due: date | None):
    schedule = parse_schedule(text, 2024)
    assert (schedule.kind, schedule.start, schedule.due) == (kind, start, due)
    assert schedule.frequency is None


def test_windows_1258_spelling_parses_like_the_composed_one():
    decomposed = "Qu\u0079\u0301 IV/2024"  # "ý" as y + combining acute
    assert parse_schedule(decomposed, 2024).due == date(2024, 12, 31)
    assert parse_schedule(decomposed, 2024).raw == "Quý IV/2024"


@pytest.mark.parametrize(
    ("text", "frequency", "day", "month", "dates_2024"),
    [
        ("Định kỳ vào ngày 25 hàng tháng", Frequency.monthly, 25, None, [date(2024, m, 25) for m in range(1, 13)]),
        ("trước ngày 15 hằng tháng (12 báo cáo)", Frequency.monthly, 15, None, [date(2024, m, 15) for m in range(1, 13)]),
        ("Định kỳ hàng quý", Frequency.quarterly, None, None, [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31)]),
        ("Báo cáo quý I, quý III gửi trước ngày 05 tháng cuối quý", Frequency.quarterly, 5, 3, [date(2024, 3, 5), date(2024, 6, 5), date(2024, 9, 5), date(2024, 12, 5)]),
        ("Báo cáo 6 tháng gửi trước ngày 05/6 hằng năm", Frequency.half_yearly, 5, 6, [date(2024, 6, 5), date(2024, 12, 5)]),
        ("trước ngày 05/12 hằng năm", Frequency.yearly, 5, 12, [date(2024, 12, 5)]),
        ("Trước ngày 31/12 hàng năm", Frequency.yearly, 31, 12, [date(2024, 12, 31)]),
        ("Quý III hàng năm", Frequency.yearly, 30, 9, [date(2024, 9, 30)]),
        ("Hằng năm", Frequency.yearly, None, None, [date(2024, 12, 31)]),
        ("6 tháng, năm", Frequency.half_yearly, None, None, [date(2024, 6, 30), date(2024, 12, 31)]),
        ("Theo quý, 6 tháng, năm và đột xuất (nếu có)", Frequency.quarterly, None, None, [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31)]),
        ("định kỳ hàng tháng, quý, 6 tháng, năm hoặc đột xuất", Frequency.monthly, None, None, None),
    ],
)  # fmt: skip
def test_recurring_duties(text: str, frequency: Frequency, day: int | None, month: int | None, dates_2024):
    schedule = parse_schedule(text, 2024)
    assert (schedule.kind, schedule.frequency, schedule.day, schedule.month) == (K.recurring, frequency, day, month)
    assert (schedule.start, schedule.due) == (None, None)
    if dates_2024 is not None:
        assert occurrences(schedule, date(2024, 1, 1), date(2024, 12, 31)) == dates_2024


def test_monthly_occurrences_clamp_to_short_months_and_honour_the_range():
    schedule = parse_schedule("trước ngày 31 hằng tháng", 2024)
    assert occurrences(schedule, date(2024, 1, 15), date(2024, 4, 30)) == [
        date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)
    ]  # fmt: skip
    monthly_end = parse_schedule("hàng tháng", 2024)
    assert occurrences(monthly_end, date(2023, 12, 1), date(2024, 2, 28)) == [date(2023, 12, 31), date(2024, 1, 31)]


def test_single_deadlines_occur_once_when_in_range():
    quarter = parse_schedule("Quý IV/2024", 2024)
    assert occurrences(quarter, date(2024, 1, 1), date(2024, 12, 31)) == [date(2024, 12, 31)]
    assert occurrences(quarter, date(2024, 1, 1), date(2024, 12, 30)) == []
    before = parse_schedule("Trước 15/01/2024", 2024)
    assert occurrences(before, date(2024, 1, 15), date(2024, 1, 15)) == [date(2024, 1, 15)]


@pytest.mark.parametrize("text", ["Thường xuyên", "Khi có Thông tư mới", "định kỳ"])
def test_undated_schedules_have_no_occurrences(text: str):
    assert occurrences(parse_schedule(text, 2024), date(2000, 1, 1), date(2100, 1, 1)) == []


def test_triggers_keep_their_text_without_notes_in_brackets():
    schedule = parse_schedule("  Khi có Thông tư mới (nếu có) ", 2024)
    assert schedule.kind is K.triggered
    assert schedule.trigger == "Khi có Thông tư mới"
    assert schedule.raw == "Khi có Thông tư mới (nếu có)"


def test_a_frequency_after_theo_is_recurring_but_quy_dinh_is_not_a_quarter():
    assert parse_schedule("Theo quý", 2024).frequency is Frequency.quarterly
    assert parse_schedule("Theo quy định hằng quý", 2024).kind is K.triggered
    assert parse_schedule("Thực hiện quy định hằng năm", 2024).frequency is Frequency.yearly


def test_several_lines_take_the_earliest_deadline():
    schedule = parse_schedule("Quý IV báo cáo\nQuý I ban hành kế hoạch", 2024)
    assert (schedule.kind, schedule.due) == (K.quarter, date(2024, 3, 31))
    assert schedule.raw == "Quý IV báo cáo\nQuý I ban hành kế hoạch"
    mixed = parse_schedule("Theo hướng dẫn của tỉnh; trước ngày 05/02/2024", 2024)
    assert (mixed.kind, mixed.due) == (K.before_date, date(2024, 2, 5))
    undated = parse_schedule("Thường xuyên\nKhi có chỉ đạo", 2024)
    assert undated.kind is K.ongoing


@pytest.mark.parametrize(
    "text", ["Quý IV/2024", "Định kỳ vào ngày 25 hàng tháng", "Khi có Thông tư mới", "???", "Trước 15/01/2024"]
)
def test_json_round_trip(text: str):
    schedule = parse_schedule(text, 2024)
    data = schedule.to_json()
    assert json.loads(json.dumps(data)) == data
    assert Schedule.from_json(data) == schedule
