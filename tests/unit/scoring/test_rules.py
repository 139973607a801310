"""The QĐ 766 on-time rule, hand-worked, one case per clause (docs/domain.md §4)."""

from __future__ import annotations

from datetime import datetime

from services.scoring.figures import figures
from services.scoring.periods import parse_period
from services.scoring.rules import DossierState, Verdict, contribution, judge
from shared.clock import VN_TZ


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=VN_TZ)


MARCH, APRIL, Q1 = parse_period("2024-03"), parse_period("2024-04"), parse_period("2024-Q1")


def test_two_supplement_requests_make_a_dossier_late_even_when_finished_early() -> None:
    state = DossierState(
        "A", "U", received_at=at("2024-03-01"), due_at=at("2024-03-20", 17), finished_at=at("2024-03-05"), supplements=2
    )
    assert judge(state, MARCH) is Verdict.late
    one = DossierState(
        "B", "U", received_at=at("2024-03-01"), due_at=at("2024-03-20", 17), finished_at=at("2024-03-05"), supplements=1
    )
    assert judge(one, MARCH) is Verdict.early


def test_open_at_the_period_end_before_its_due_time_is_on_time() -> None:
    state = DossierState("A", "U", received_at=at("2024-03-25"), due_at=at("2024-04-05", 17))
    assert judge(state, MARCH) is Verdict.on_time


def test_open_at_the_period_end_after_its_due_time_is_late_once_the_overdue_event_said_so() -> None:
    due = at("2024-03-28", 17)
    state = DossierState("A", "U", received_at=at("2024-03-20"), due_at=due)
    assert judge(state, MARCH) is Verdict.on_time  # "now" has not told us the due time passed
    state.overdue_due = due
    assert judge(state, MARCH) is Verdict.late
    assert judge(state, APRIL) is Verdict.late  # still open, still late


def test_an_apology_moving_the_due_time_later_leaves_an_open_dossier_on_time_until_the_new_date_passes() -> None:
    state = DossierState(
        "A", "U", received_at=at("2024-03-20"), due_at=at("2024-04-10", 17), overdue_due=at("2024-03-28", 17)
    )
    assert judge(state, MARCH) is Verdict.on_time


def test_received_in_march_finished_in_april_is_judged_in_both_months() -> None:
    state = DossierState(
        "A", "U", received_at=at("2024-03-20"), due_at=at("2024-04-03", 17), finished_at=at("2024-04-02")
    )
    assert judge(state, MARCH) is Verdict.on_time  # open at the end of March, not yet due
    assert judge(state, APRIL) is Verdict.early
    assert judge(state, parse_period("2024-05")) is None
    assert judge(state, parse_period("2024-02")) is None
    late = DossierState(
        "B", "U", received_at=at("2024-03-20"), due_at=at("2024-03-29", 17), finished_at=at("2024-04-02")
    )
    assert judge(late, MARCH) is Verdict.late  # open and past due at the end of March
    assert judge(late, APRIL) is Verdict.late
    assert judge(late, Q1) is Verdict.late


def test_a_dossier_still_processed_through_a_month_is_judged_in_it() -> None:
    state = DossierState(
        "A", "U", received_at=at("2024-02-20"), due_at=at("2024-05-03", 17), finished_at=at("2024-04-02")
    )
    assert judge(state, MARCH) is Verdict.on_time


def test_monthly_counters_give_the_same_verdicts_as_the_rule() -> None:
    """The contribution points, summed the way the read model sums them, count each verdict once."""
    from collections import Counter

    from services.scoring.queries import sums_from_points

    states = [
        DossierState("A", "U", received_at=at("2024-03-20"), due_at=at("2024-03-29", 17), finished_at=at("2024-04-02")),
        DossierState("B", "U", received_at=at("2024-02-20"), due_at=at("2024-05-03", 17), finished_at=at("2024-04-02")),
        DossierState(
            "C", "U", received_at=at("2024-03-25"), due_at=at("2024-03-27", 17), overdue_due=at("2024-03-27", 17)
        ),
        DossierState("D", "U", received_at=at("2024-01-25"), due_at=at("2024-02-01", 17), finished_at=at("2024-01-30")),
    ]
    points: Counter = Counter()
    for s in states:
        points.update(contribution(s))
    for period in (MARCH, APRIL, Q1, parse_period("2024-02"), parse_period("2024")):
        sums = sums_from_points(points, period)
        verdicts = Counter(v for s in states if (v := judge(s, period)) is not None)
        assert sums.judged == sum(verdicts.values()), period
        assert sums.late == verdicts[Verdict.late], period
        assert sums.fin_early == verdicts[Verdict.early], period


def test_no_data_gives_zero_counts_and_undetermined_progress() -> None:
    from services.scoring.figures import Sums

    result = figures(Sums())
    assert result["dossiers.received"].value == 0
    assert result["dossiers.on_time_rate"].value is None and result["dossiers.on_time_rate"].denominator == 0
    assert result["qd766.progress_points"].points is None
    assert "undetermined" in (result["qd766.progress_points"].note or "")
