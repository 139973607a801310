"""Plan targets against indicators: status and projection to the period's end.

Projection: a ratio is projected to stay where it is (the share so far is the best estimate of the
share at the end); a count grows in proportion to the time elapsed (value ÷ elapsed share of the
period). Status: after the period, ``met`` or ``missed``; during it, ``met`` once a count target
that can only be kept is already reached (``>=``/``>`` on a count), ``on_track`` when the
projection satisfies the target (or there is no data yet), ``at_risk`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from services.scoring.periods import Period, elapsed_share

OPERATORS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: abs(a - b) < 1e-9,
}


class TargetStatus(StrEnum):
    """A target against its indicator: met, on track, at risk (the projection misses it) or missed."""

    met = "met"
    on_track = "on_track"
    at_risk = "at_risk"
    missed = "missed"


@dataclass(frozen=True)
class Goal:
    operator: str
    value: Decimal
    unit: str  # "%" or "count"

    @property
    def threshold(self) -> float:
        """In the indicator's own unit (a percentage becomes a 0–1 ratio)."""
        return float(self.value) / 100 if self.unit == "%" else float(self.value)

    def satisfied_by(self, value: float) -> bool:
        return OPERATORS[self.operator](value, self.threshold)


def project(value: float, is_count: bool, period: Period, now: datetime) -> float:
    if not is_count:
        return value
    share = elapsed_share(period, now)
    return value / share if share > 0 else value


def status(
    goal: Goal, value: float | None, is_count: bool, period: Period, now: datetime
) -> tuple[TargetStatus, float | None]:
    """The target's status and the projected value at the period's end."""
    if now >= period.end:
        return (TargetStatus.met if value is not None and goal.satisfied_by(value) else TargetStatus.missed), value
    if value is None:
        return TargetStatus.on_track, None
    projected = project(value, is_count, period, now)
    if is_count and goal.operator in (">=", ">") and goal.satisfied_by(value):
        return TargetStatus.met, projected
    return (TargetStatus.on_track if goal.satisfied_by(projected) else TargetStatus.at_risk), projected
