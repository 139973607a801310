"""A unit's figures for one period (sums of monthly counters) and the indicators computed from them.

Pure: :mod:`services.scoring.queries` fills :class:`Sums` from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from services.scoring import formulas
from services.scoring.catalogue import Indicator, catalogue


@dataclass
class Sums:
    """What a period's indicators are computed from (see :mod:`services.scoring.rules`)."""

    received: int = 0
    received_online: int = 0
    carried_in: int = 0  # received before the period, not finished before it
    resolved: int = 0
    fin_early: int = 0
    fin_late: int = 0
    open_late: int = 0  # open at the period's end and late by then
    fin_fees: int = 0
    fin_paid_online: int = 0
    fin_digitised: int = 0
    fin_reused: int = 0
    apology_late: int = 0
    task_known: int = 0
    task_done: int = 0
    task_done_on_time: int = 0
    procedures_with_fees: int = 0
    procedures_paid_online: int = 0

    @property
    def judged(self) -> int:
        return self.received + self.carried_in

    @property
    def late(self) -> int:
        return self.fin_late + self.open_late

    @property
    def on_time(self) -> int:
        return self.judged - self.late

    def __add__(self, other: Sums) -> Sums:
        return Sums(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass(frozen=True)
class Figure:
    code: str
    numerator: float | None
    denominator: float | None
    value: float | None
    points: float | None = None
    max_points: float | None = None
    note: str | None = None  # why a value or points are unknown or partial


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _base(s: Sums) -> dict[str, tuple[int, int | None]]:
    """code → (numerator, denominator or None for a count)."""
    return {
        "dossiers.received": (s.received, None),
        "dossiers.resolved": (s.resolved, None),
        "dossiers.on_time_rate": (s.on_time, s.judged),
        "dossiers.early_rate": (s.fin_early, s.judged),
        "dossiers.late": (s.late, None),
        "dossiers.open_overdue": (s.open_late, None),
        "dossiers.online_rate": (s.received_online, s.received),
        "payments.online_rate": (s.fin_paid_online, s.fin_fees),
        "dossiers.digitised_rate": (s.fin_digitised, s.resolved),
        "dossiers.reused_data_rate": (s.fin_reused, s.resolved),
        "apology.coverage": (s.apology_late, s.late),
        "tasks.completion_rate": (s.task_done, s.task_known),
        "tasks.on_time_rate": (s.task_done_on_time, s.task_known),
    }


def figures(s: Sums) -> dict[str, Figure]:
    """Every catalogue indicator for these sums, in catalogue order."""
    base = _base(s)
    result: dict[str, Figure] = {}
    for indicator in catalogue().indicators:
        if indicator.code in base:
            numerator, denominator = base[indicator.code]
            value = float(numerator) if denominator is None else ratio(numerator, denominator)
            result[indicator.code] = Figure(indicator.code, numerator, denominator, value)
        elif indicator.kind == "points":
            result[indicator.code] = _points(indicator, s, result)
        else:
            result[indicator.code] = Figure(indicator.code, None, None, None, note=indicator.unknown_reason)
    return result


def _points(indicator: Indicator, s: Sums, known: dict[str, Figure]) -> Figure:
    if indicator.formula is None:
        return Figure(indicator.code, None, None, None, None, indicator.max_points, indicator.unknown_reason)
    if indicator.formula == "total":
        parts = [f for f in known.values() if f.points is not None and f.code != indicator.code]
        if not parts:
            return Figure(indicator.code, None, None, None, None, 0.0, "no known points for this period")
        total, out_of = sum(f.points or 0 for f in parts), sum(f.max_points or 0 for f in parts)
        return Figure(
            indicator.code, total, out_of, total, total, out_of, "total over the known points, out of their maxima"
        )
    points, note = formulas.apply(indicator.formula, s)
    value = None if points is None else round(points, 4)
    return Figure(
        indicator.code,
        value,
        indicator.max_points,
        value,
        value,
        indicator.max_points,
        note or indicator.partial_reason,
    )
