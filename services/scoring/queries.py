"""Reading the counters: a unit subtree's figures for a period (monthly rows summed, then
:func:`sums_from_months`, the one place the flow arithmetic of :mod:`services.scoring.rules` lives)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.figures import Sums
from services.scoring.models import COUNTERS_TABLE
from services.scoring.periods import Period
from services.scoring.rules import COUNTERS, ONLINE_CHANNEL, Contribution

C = COUNTERS_TABLE.c
Month = Mapping[str, int]  # counter (and "received_online") → amount, for one month
PER_PROCEDURE = ("fin_fees", "fin_paid_online")


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
    """The period's sums over ``units`` (a unit and its descendants)."""
    in_units = C.unit.in_(units) if len(units) > 1 else C.unit == units[0]
    columns = [func.sum(getattr(C, name)).label(name) for name in COUNTERS]
    online = func.sum(case((C.channel == ONLINE_CHANNEL, C.received), else_=0)).label("received_online")
    monthly = select(C.month, online, *columns).where(in_units, C.month < period.end_index).group_by(C.month)
    months = {row["month"]: row for row in (await session.execute(monthly)).mappings()}
    per_procedure = (
        select(C.procedure, func.sum(C.fin_fees), func.sum(C.fin_paid_online))
        .where(in_units, C.month >= period.first, C.month < period.end_index, C.fin_fees > 0)
        .group_by(C.procedure)
    )
    procedures = {p: (int(f or 0), int(o or 0)) for p, f, o in (await session.execute(per_procedure)).all()}
    return sums_from_months({m: {k: int(v or 0) for k, v in r.items()} for m, r in months.items()}, procedures, period)


async def units_with_counters(session: AsyncSession, units: Iterable[str]) -> set[str]:
    """Which of ``units`` have counters of their own (a unit plans does not know yet may)."""
    wanted = list(units)
    rows = await session.execute(select(C.unit).where(C.unit.in_(wanted)).distinct())
    return set(rows.scalars())
