"""Reading the counters: a unit subtree's figures for a period (monthly rows summed, then
:func:`sums_from_months`, the one place the flow arithmetic of :mod:`services.scoring.rules` lives)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.figures import Sums
from services.scoring.models import PROCEDURE_MONTHS, UNIT_MONTHS
from services.scoring.periods import Period
from services.scoring.rules import COUNTERS, ONLINE_CHANNEL, PER_PROCEDURE, Contribution

Month = Mapping[str, int]  # counter (and "received_online") → amount, for one month


def sums_from_months(months: Mapping[int, Month], procedures: tuple[int, int], period: Period) -> Sums:
    """The period's sums from monthly totals (every month before the period's end; the months
    before its start may come summed as one) and the procedures (with a dossier finished with
    fees, of which with one paid online) in the period."""
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
    s.procedures_with_fees, s.procedures_paid_online = procedures
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
    with_fees = sum(1 for fees, _ in procedures.values() if fees > 0)
    paid_online = sum(1 for fees, paid in procedures.values() if fees > 0 and paid > 0)
    return sums_from_months(months, (with_fees, paid_online), period)


def _sums_statement() -> Select[Any]:
    """The statement of :func:`unit_sums`, built once; its parameters are ``units``, ``first``
    (the period's first month index), ``before`` (``first`` − 1) and ``end`` (its end index)."""
    M, P = UNIT_MONTHS.c, PROCEDURE_MONTHS.c
    units: BindParameter[list[str]] = bindparam("units", expanding=True)
    first: BindParameter[int] = bindparam("first")
    end: BindParameter[int] = bindparam("end")
    month = case((M.month < first, bindparam("before")), else_=M.month).label("month")
    monthly = select(month, *(M[name] for name in MONTH_COLUMNS)).where(M.unit.in_(units), M.month < end).subquery()
    months = (
        select(monthly.c.month, *(func.sum(monthly.c[name]).label(name) for name in MONTH_COLUMNS))
        .group_by(monthly.c.month)
        .subquery()
    )
    fees = (
        select(func.sum(P.fin_paid_online).label("paid"))
        .where(P.unit.in_(units), P.month >= first, P.month < end, P.fin_fees > 0)
        .group_by(P.procedure)
        .subquery()
    )
    procedures = select(
        func.count().label("with_fees"), func.count(case((fees.c.paid > 0, 1))).label("paid_online")
    ).subquery()
    return select(procedures, months).select_from(procedures.outerjoin(months, true()))


MONTH_COLUMNS = (*COUNTERS, "received_online")
SUMS = _sums_statement()


async def unit_sums(session: AsyncSession, units: Sequence[str], period: Period) -> Sums:
    """The period's sums over ``units`` (a unit and its descendants), from the roll-ups, in one
    statement: a row per month of the period and one for every month before it, summed (what is
    carried in and what turned late before the period are sums: :func:`sums_from_months` reads
    them alike), each with the period's procedure counts (a single row of those if no month has
    counters)."""
    parameters = {"units": list(units), "first": period.first, "before": period.first - 1, "end": period.end_index}
    found: dict[int, Month] = {}
    counts = (0, 0)
    for row in (await session.execute(SUMS, parameters)).mappings():
        counts = (int(row["with_fees"]), int(row["paid_online"]))
        if row["month"] is not None:
            found[row["month"]] = {name: int(row[name] or 0) for name in MONTH_COLUMNS}
    return sums_from_months(found, counts, period)


async def units_with_counters(session: AsyncSession, units: Iterable[str]) -> set[str]:
    """Which of ``units`` have counters of their own (a unit plans does not know yet may)."""
    M = UNIT_MONTHS.c
    rows = await session.execute(select(M.unit).where(M.unit.in_(list(units))).distinct())
    return set(rows.scalars())
