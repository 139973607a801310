"""Reading the counters: a unit subtree's figures for a period (monthly rows summed, then
:func:`sums_from_months`, the one place the flow arithmetic of :mod:`services.scoring.rules` lives)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.figures import Sums
from services.scoring.models import PROCEDURE_MONTHS, UNIT_MONTHS
from services.scoring.periods import Period
from services.scoring.rules import COUNTERS, ONLINE_CHANNEL, PER_PROCEDURE, Contribution

Month = Mapping[str, int]  # counter (and "received_online") → amount, for one month


def sums_from_months(months: Mapping[int, Month], procedures: Mapping[str, tuple[int, int]], period: Period) -> Sums:
    """The period's sums from monthly totals (every month before the period's end) and, per
    procedure, (dossiers with fees, paid online) finished in the period."""
    s = Sums()
    for month, row in months.items():
        g = row.get
        if month >= period.end_index:
            continue
        if month < period.first:
            s.carried_in += g("received", 0) - g("finished", 0)
        else:
            s.received += g("received", 0)
            s.received_online += g("received_online", 0)
            s.resolved += g("finished", 0)
            s.fin_early += g("fin_early", 0)
            s.fin_late += g("fin_late", 0)
            s.fin_fees += g("fin_fees", 0)
            s.fin_paid_online += g("fin_paid_online", 0)
            s.fin_digitised += g("fin_digitised", 0)
            s.fin_reused += g("fin_reused", 0)
            s.apology_late += g("apology_fin_late", 0)
            s.task_known += g("task_known", 0)
            s.task_done += g("task_done", 0)
            s.task_done_on_time += g("task_done_on_time", 0)
        # open at the end and late by then: became late before the end, not finished late before it
        s.open_late += g("late_from", 0) - g("fin_late", 0)
        s.apology_late += g("apology_late_from", 0) - g("apology_fin_late", 0)
    s.procedures_with_fees = sum(1 for fees, _ in procedures.values() if fees > 0)
    s.procedures_paid_online = sum(1 for fees, paid in procedures.values() if fees > 0 and paid > 0)
    return s


def sums_from_points(points: Contribution, period: Period) -> Sums:
    """The same from raw contribution points (tests and the recount)."""
    months: dict[int, Counter[str]] = {}
    procedures: dict[str, list[int]] = {}
    for ((_, month, procedure, channel), counter), amount in points.items():
        row = months.setdefault(month, Counter())
        row[counter] += amount
        if counter == "received" and channel == ONLINE_CHANNEL:
            row["received_online"] += amount
        if counter in PER_PROCEDURE and period.contains(month):
            procedures.setdefault(procedure, [0, 0])[PER_PROCEDURE.index(counter)] += amount
    return sums_from_months(months, {p: (f, o) for p, (f, o) in procedures.items()}, period)


async def unit_sums(session: AsyncSession, units: Sequence[str], period: Period) -> Sums:
    """The period's sums over ``units`` (a unit and its descendants), from the roll-ups."""
    M, P = UNIT_MONTHS.c, PROCEDURE_MONTHS.c
    columns = [func.sum(M[name]).label(name) for name in (*COUNTERS, "received_online")]
    monthly = select(M.month, *columns).where(_in(M.unit, units), M.month < period.end_index).group_by(M.month)
    months = {row["month"]: row for row in (await session.execute(monthly)).mappings()}
    per_procedure = (
        select(P.procedure, func.sum(P.fin_fees), func.sum(P.fin_paid_online))
        .where(_in(P.unit, units), P.month >= period.first, P.month < period.end_index, P.fin_fees > 0)
        .group_by(P.procedure)
    )
    procedures = {p: (int(f or 0), int(o or 0)) for p, f, o in (await session.execute(per_procedure)).all()}
    return sums_from_months({m: {k: int(v or 0) for k, v in r.items()} for m, r in months.items()}, procedures, period)


def _in(column: Any, units: Sequence[str]) -> Any:
    return column.in_(units) if len(units) > 1 else column == units[0]


async def units_with_counters(session: AsyncSession, units: Iterable[str]) -> set[str]:
    """Which of ``units`` have counters of their own (a unit plans does not know yet may)."""
    M = UNIT_MONTHS.c
    rows = await session.execute(select(M.unit).where(M.unit.in_(list(units))).distinct())
    return set(rows.scalars())
