"""Publishes what moved: ``indicator.changed`` (coalesced), ``target.at_risk`` and ``target.missed``.

Consumers only mark the (own unit, month) whose counters moved. Once a second the publisher claims
those marks, widens them to the unit's ancestors and to every period the month affects (its month,
quarter, half-year and year, and — a dossier open across months counts in the later ones — each
later month up to now, at most :data:`HORIZON` months), recomputes those figures and emits an event
only for a value that differs from the one last published. So at most one ``indicator.changed`` per
unit, period and code per second, and the last value always goes out. Target statuses are evaluated
per unit they bind for the same (unit, period) pairs, plus every target whose period has ended;
an event goes out when a unit's status for a target changes to ``at_risk`` or ``missed``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import delete, select

from services.scoring import queries
from services.scoring import service as read
from services.scoring.events import IndicatorChanged, TargetAtRisk, TargetMissed, TargetRef
from services.scoring.figures import Figure, figures
from services.scoring.models import DirtyMonth, Published, Target, TargetUnitStatus, directory
from services.scoring.periods import Period, PeriodError, month_index, parse_period, periods_of_month
from services.scoring.targets import TargetStatus
from shared.db import upsert
from shared.service import ServiceContext
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
HORIZON = 24
INTERVAL = 1.0
DIRTY, PUBLISHED = DirtyMonth.__table__, Published.__table__


def affected_periods(month: int, now: datetime) -> set[Period]:
    last = max(month, min(month_index(now), month + HORIZON))
    return {p for m in range(month, last + 1) for p in periods_of_month(m)}


async def publish_pending(uow: UnitOfWork) -> int:
    """One pass (in the caller's transaction); returns how many events it emitted."""
    session, now = uow.session, uow.clock.now()
    claimed = (await session.execute(delete(DIRTY).returning(DIRTY.c.unit, DIRTY.c.month))).all()
    pairs: set[tuple[str, Period]] = set()
    for unit, month in claimed:
        periods = affected_periods(month, now)
        for ancestor in await directory.ancestors(session, unit):
            pairs.update((ancestor, p) for p in periods)
    emitted = 0
    for unit, period in sorted(pairs, key=lambda p: (p[0], p[1].first, p[1].months)):
        result = figures(await queries.unit_sums(session, await directory.descendants(session, unit), period))
        emitted += await _indicators(uow, unit, period, result, now)
        for target in await read.targets_for(session, unit, period.text):
            emitted += await _target(uow, target, unit, period, result, now)
    emitted += await _ended_targets(uow, now)
    return emitted


async def _indicators(uow: UnitOfWork, unit: str, period: Period, result: dict[str, Figure], now: datetime) -> int:
    session = uow.session
    P = PUBLISHED.c
    known = dict((await session.execute(select(P.code, P.value).where(P.unit == unit, P.period == period.text))).all())
    changed = [f for f in result.values() if f.value is not None and (f.code not in known or known[f.code] != f.value)]
    changed += [f for f in result.values() if f.value is None and known.get(f.code) is not None]
    if not changed:
        return 0
    bound: dict[str, list[TargetRef]] = {}
    for target in await read.targets_for(session, unit, period.text):
        bound.setdefault(target.metric_code, []).append(_ref(target))
    for f in changed:
        uow.emit(
            IndicatorChanged(
                unit=unit,
                period=period.text,
                code=f.code,
                value=f.value,
                numerator=f.numerator,
                denominator=f.denominator,
                previous=known.get(f.code),
                targets=bound.get(f.code, []),
            )
        )
    rows = [
        {"unit": unit, "period": period.text, "code": f.code, "value": f.value, "published_at": now} for f in changed
    ]
    statement = upsert(session, PUBLISHED).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["unit", "period", "code"], set_={"value": statement.excluded.value, "published_at": now}
        )
    )
    return len(changed)


def _ref(target: Target) -> TargetRef:
    threshold = target.value / 100 if target.unit == "%" else target.value
    return TargetRef(target_id=target.target_id, plan_id=target.plan_id, operator=target.operator, value=threshold)


async def _target(
    uow: UnitOfWork, target: Target, unit: str, period: Period, result: dict[str, Figure], now: datetime
) -> int:
    """Evaluate one target in one unit it binds; emit once when that status turns at_risk or missed."""
    evaluation = read.evaluate(target, result.get(target.metric_code), period, now)
    status = evaluation.status.value
    key = (target.target_id, unit)
    stored = await uow.session.get(TargetUnitStatus, key)
    if stored is not None and stored.status == status:
        return 0
    if stored is None:
        uow.session.add(TargetUnitStatus(target_id=target.target_id, unit=unit, status=status, status_at=now))
    else:
        stored.status, stored.status_at = status, now
    event = {TargetStatus.at_risk.value: TargetAtRisk, TargetStatus.missed.value: TargetMissed}.get(status)
    if event is None:
        return 0
    uow.emit(
        event(
            target_id=target.target_id,
            plan_id=target.plan_id,
            unit=unit,
            period=period.text,
            code=target.metric_code,
            value=evaluation.value,
            projected=evaluation.projected,
            target=_ref(target),
            status=status,
        )
    )
    return 1


async def _ended_targets(uow: UnitOfWork, now: datetime) -> int:
    """Targets whose period ended with a unit not yet judged met or missed: judged now (no other
    event need come). A target is closed once every unit it binds has its final status."""
    session = uow.session
    emitted = 0
    for target in (await session.execute(select(Target).where(Target.closed.is_(False)))).scalars().all():
        try:
            period = parse_period(target.period)
        except PeriodError:
            target.closed = True  # no period to judge it in (it is still listed)
            continue
        if now < period.end:
            continue
        tree = await directory.snapshot(session)
        for unit in read.bound_units(tree, target):
            result = figures(await queries.unit_sums(session, tree.descendants(unit), period))
            emitted += await _target(uow, target, unit, period, result, now)
        target.closed = True
    return emitted


async def run_publisher(context: ServiceContext) -> None:
    """The worker: a pass a second."""
    while True:
        try:
            async with context.uow() as uow:
                await publish_pending(uow)
                await uow.commit()
        except Exception:
            log.exception("scoring publisher: pass failed; retrying")
        await asyncio.sleep(INTERVAL)
