"""Periods, the catalogue as data, the QĐ 766 formulas and target status."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from services.plans.target_suggestions import METRICS
from services.scoring.catalogue import catalogue
from services.scoring.figures import Sums, figures
from services.scoring.periods import PeriodError, month_index, parse_period
from services.scoring.targets import Goal, TargetStatus, status
from shared.clock import VN_TZ


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", "2024-01-01", "2025-01-01"),
        ("2024-H2", "2024-07-01", "2025-01-01"),
        ("2024-Q1", "2024-01-01", "2024-04-01"),
        ("2024-03", "2024-03-01", "2024-04-01"),
    ],
)
def test_periods_run_over_whole_months_in_vietnam_time(text: str, start: str, end: str) -> None:
    period = parse_period(text)
    assert period.start == datetime.fromisoformat(start).replace(tzinfo=VN_TZ)
    assert period.end == datetime.fromisoformat(end).replace(tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("instant", "month"),
    [
        ("2024-03-31T16:59:59+00:00", "2024-03"),  # 23:59:59 in Hà Nội
        ("2024-03-31T17:00:00+00:00", "2024-04"),  # midnight in Hà Nội: April already
        ("2024-04-01T00:00:00+07:00", "2024-04"),
        ("2024-03-31T23:59:59.999999+07:00", "2024-03"),
        ("2024-03-31T12:30:00-05:00", "2024-04"),  # 00:30 on 1 April in Hà Nội
        ("2024-12-31T18:00:00+01:00", "2025-01"),  # across a year
        ("1970-06-30T16:30:00+00:00", "1970-07"),  # before 1976: Saigon kept +08:00 then (the zone's own rules)
    ],
)
def test_an_instant_counts_in_its_month_in_vietnam_time(instant: str, month: str) -> None:
    moment = datetime.fromisoformat(instant)
    assert month_index(moment) == parse_period(month).first
    local = moment.astimezone(VN_TZ)
    assert month_index(moment) == local.year * 12 + local.month - 1


@pytest.mark.parametrize("text", ["2024-Q5", "2024-13", "2024-00", "2024-H3", "24", "2024-3", "2024-Q0", "soon"])
def test_impossible_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_the_catalogue_knows_every_metric_code_the_plans_service_suggests() -> None:
    assert {code for code, _ in METRICS} <= set(catalogue().codes)


def test_every_scored_indicator_has_a_known_formula_or_says_why_not() -> None:
    scored = [i for i in catalogue().indicators if i.kind == "points"]
    assert {i.group for i in scored if i.group} == {g.code for g in catalogue().groups}
    assert [g.max for g in catalogue().groups] == [18, 20, 12, 10, 18, 22]
    for indicator in scored:
        assert indicator.formula or indicator.unknown_reason, indicator.code


def test_qd766_formulas_by_hand() -> None:
    # 40 judged (30 received + 10 carried), 4 late: progress = 20 × 36/40 = 18.
    # 10 with fees, 5 paid online (A = 0.5); 2 of 4 fee-bearing procedures paid online (B = 0.5):
    # 6 × 0.5 + min(2, 2.5 × 0.5) = 4.25. 20 resolved, 12 reusing data (R = 0.6): min(2, 2 × 0.6/0.8) = 1.5.
    sums = Sums(
        received=30,
        carried_in=10,
        resolved=20,
        fin_late=3,
        open_late=1,
        fin_fees=10,
        fin_paid_online=5,
        procedures_with_fees=4,
        procedures_paid_online=2,
        fin_reused=12,
    )
    result = figures(sums)
    assert result["qd766.progress_points"].points == pytest.approx(18)
    assert result["qd766.online_payment_points"].points == pytest.approx(4.25)
    assert result["qd766.reused_data_points"].points == pytest.approx(1.5)
    assert result["qd766.total_points"].points == pytest.approx(23.75)
    assert result["qd766.total_points"].max_points == 30
    assert result["qd766.online_service_points"].points is None
    assert "not public" in (result["qd766.online_service_points"].note or "")
    # reuse reaches its 2 points at 80 %
    assert figures(Sums(received=1, resolved=10, fin_reused=9))["qd766.reused_data_points"].points == 2


def test_target_status_and_projection() -> None:
    q1 = parse_period("2024-Q1")
    mid = datetime(2024, 2, 15, 12, tzinfo=VN_TZ)  # half of Q1 (91 days) gone
    rate = Goal(">=", Decimal("95"), "%")
    assert status(rate, 0.96, False, q1, mid) == (TargetStatus.on_track, 0.96)
    assert status(rate, 0.90, False, q1, mid)[0] is TargetStatus.at_risk
    assert status(rate, 0.90, False, q1, datetime(2024, 4, 1, tzinfo=VN_TZ))[0] is TargetStatus.missed
    assert status(rate, 0.95, False, q1, datetime(2024, 4, 1, tzinfo=VN_TZ))[0] is TargetStatus.met
    strict = Goal(">", Decimal("95"), "%")
    assert status(strict, 0.95, False, q1, mid)[0] is TargetStatus.at_risk
    count = Goal(">=", Decimal("100"), "count")
    state, projected = status(count, 40, True, q1, mid)
    assert state is TargetStatus.at_risk and projected == pytest.approx(80, rel=0.01)
    assert status(count, 60, True, q1, mid)[0] is TargetStatus.on_track
    assert status(count, 100, True, q1, mid)[0] is TargetStatus.met
