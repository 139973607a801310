"""Publishes what moved: ``indicator.changed`` (spaced a second apart per key), ``target.at_risk``
and ``target.missed``.

Consumers only mark the (own unit, month) whose counters moved, and each batch they apply pokes
the publisher, a deadline scheduler of the service (:data:`PUBLISHER`): it wakes at once, not on
a tick. A pass claims those marks (moves them to ``claimed_months`` in a short transaction of its
own, so a consumer marking the same month again never waits for the pass), widens them to the
unit's ancestors and to every period the month affects (its month, quarter, half-year and year,
and — a dossier open across months counts in the later ones — each later month up to now, at most
:data:`HORIZON` months), recomputes those figures and emits an event only for a value that
differs from the one last published.

"At most one ``indicator.changed`` per unit, period and code per second" is a spacing per key: a
changed value whose key was published less than :data:`SPACING` ago is not emitted; its (unit,
period) is held (``held_periods``, in the same transaction as the claim, so a restart loses
nothing) until that second is up, then recomputed, and the value of that moment goes out (none if
it came back to the one published). Other keys are not held back by it.

Target statuses are evaluated per unit they bind for the same (unit, period) pairs, plus every
target whose period has ended; an event goes out when a unit's status for a target changes to
``at_risk`` or ``missed``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring import ledger, queries
from services.scoring import service as read
from services.scoring.events import IndicatorChanged, TargetAtRisk, TargetMissed, TargetRef
from services.scoring.figures import Figure, figures
from services.scoring.ledger import CLAIMED, DIRTY
from services.scoring.models import HeldPeriod, Published, Target, TargetUnitStatus, directory
from services.scoring.periods import Period, PeriodError, month_index, parse_period, periods_of_month
from services.scoring.settings import ScoringSettings
from services.scoring.targets import TargetStatus
from shared.consumer import Handler, Subscription
from shared.db import on_postgres, upsert, upsert_rows
from shared.events import CloudEvent
from shared.service import Deadlines, ServiceContext
from shared.units import UnitSnapshot
from shared.uow import UnitOfWork

HORIZON = 24
SPACING = timedelta(seconds=1)  # between two indicator.changed of one (unit, period, code)
HELD, PUBLISHED = HeldPeriod.__table__, Published.__table__
# one pass at a time over the database (replicas): two could both find a key free to publish
PASS_LOCK = text("select pg_advisory_xact_lock(:k)").bindparams(k=zlib.crc32(b"cchc.scoring.publisher"))
Held = dict[tuple[str, str], datetime]  # (unit, period text) → when to look again
Known = dict[str, tuple[Any, datetime]]  # code → (the value last published, when)


def affected_periods(month: int, now: datetime) -> set[Period]:
    last = max(month, min(month_index(now), month + HORIZON))
    return {p for m in range(month, last + 1) for p in periods_of_month(m)}


async def publish_pending(context: ServiceContext) -> int:
    """One pass: the marks claimed (committed at once), then what they moved published in a
    transaction of its own; returns how many events it emitted. A pass that fails leaves its
    claims to the next."""
    async with context.uow() as uow:
        await ledger.claim_marks(uow.session)
        await uow.commit()
    async with context.uow() as uow:
        emitted = await _publish_claimed(uow)
        await uow.commit()
    return emitted


async def _publish_claimed(uow: UnitOfWork) -> int:
    session, now = uow.session, uow.clock.now()
    if on_postgres(session):
        await session.execute(PASS_LOCK)
    claimed = (await session.execute(delete(CLAIMED).returning(CLAIMED.c.unit, CLAIMED.c.month))).all()
    released = (
        await session.execute(delete(HELD).where(HELD.c.due_at <= now).returning(HELD.c.unit, HELD.c.period))
    ).all()
    pairs: set[tuple[str, Period]] = {(unit, parse_period(period)) for unit, period in released}
    tree = await directory.snapshot(session)  # once a pass: the lineages, subtrees and targets' issuers
    for unit, month in claimed:
        periods = affected_periods(month, now)
        for ancestor in tree.lineage(unit):
            pairs.update((ancestor, p) for p in periods)
    emitted = 0
    held: Held = {}
    of_period = await read.targets_of_periods(session, (period.text for _, period in pairs)) if pairs else {}
    published = await _published(session, pairs) if pairs else {}
    for unit, period in sorted(pairs, key=lambda p: (p[0], p[1].first, p[1].months)):
        result = figures(await queries.unit_sums(session, tree.descendants(unit), period))
        targets = read.binding(of_period.get(period.text, ()), unit, tree)
        known = published.get((unit, period.text), {})
        emitted += await _indicators(uow, unit, period, result, held, known, targets)
        for target in targets:
            emitted += await _target(uow, target, unit, period, result, now)
    await _hold(session, held)
    emitted += await _ended_targets(uow, now, tree)
    return emitted


async def _published(session: AsyncSession, pairs: set[tuple[str, Period]]) -> dict[tuple[str, str], Known]:
    """What was last published of these (unit, period) pairs, read in one query."""
    P = PUBLISHED.c
    units, periods = sorted({unit for unit, _ in pairs}), sorted({period.text for _, period in pairs})
    query = select(P.unit, P.period, P.code, P.value, P.published_at).where(P.unit.in_(units), P.period.in_(periods))
    found: dict[tuple[str, str], Known] = {}
    for unit, period, code, value, at in (await session.execute(query)).all():
        found.setdefault((unit, period), {})[code] = (value, at)
    return found


async def _indicators(
    uow: UnitOfWork,
    unit: str,
    period: Period,
    result: dict[str, Figure],
    held: Held,
    known: Known,
    targets: Sequence[Target],
) -> int:
    """Emit the figures that changed from ``known`` (what was last published of this unit and
    period), but for a key published less than :data:`SPACING` ago: that one waits (its pair goes
    into ``held`` with the instant its second is up). The instant kept as published is read after
    the events are made, so their ``time`` fields are a second apart too."""
    session, now = uow.session, uow.clock.now()
    changed = [f for f in result.values() if f.code in known and known[f.code][0] != f.value]
    changed += [f for f in result.values() if f.code not in known and f.value is not None]
    ready = []
    for f in changed:
        free_at = known[f.code][1] + SPACING if f.code in known else now
        if free_at <= now:
            ready.append(f)
        else:
            key = (unit, period.text)
            held[key] = min(held.get(key, free_at), free_at)
    if not ready:
        return 0
    bound: dict[str, list[TargetRef]] = {}
    for target in targets:
        bound.setdefault(target.metric_code, []).append(_ref(target))
    for f in ready:
        uow.emit(
            IndicatorChanged(
                unit=unit,
                period=period.text,
                code=f.code,
                value=f.value,
                numerator=f.numerator,
                denominator=f.denominator,
                previous=known[f.code][0] if f.code in known else None,
                targets=bound.get(f.code, []),
            )
        )
    published_at = uow.clock.now()
    rows = [
        {"unit": unit, "period": period.text, "code": f.code, "value": f.value, "published_at": published_at}
        for f in ready
    ]
    statement = upsert(session, PUBLISHED).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["unit", "period", "code"],
            set_={"value": statement.excluded.value, "published_at": statement.excluded.published_at},
        )
    )
    return len(ready)


async def _hold(session: AsyncSession, held: Held) -> None:
    """Keep the held pairs, each with the earliest instant it is due (a pair may be held already)."""
    rows = [{"unit": unit, "period": period, "due_at": due} for (unit, period), due in sorted(held.items())]
    if rows:
        await upsert_rows(session, HELD, rows, _earliest_due)


def _earliest_due(insert: Any) -> Any:
    sooner = insert.excluded.due_at < HELD.c.due_at
    return insert.on_conflict_do_update(
        index_elements=["unit", "period"], set_={"due_at": case((sooner, insert.excluded.due_at), else_=HELD.c.due_at)}
    )


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


async def _ended_targets(uow: UnitOfWork, now: datetime, tree: UnitSnapshot) -> int:
    """Targets whose period ended with a unit not yet judged met or missed: judged now (no other
    event need come), in the pass's unit ``tree``. A target is closed once every unit it binds has
    its final status."""
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
        for unit in read.bound_units(tree, target):
            result = figures(await queries.unit_sums(session, tree.descendants(unit), period))
            emitted += await _target(uow, target, unit, period, result, now)
        target.closed = True
    return emitted


async def next_due(context: ServiceContext) -> datetime | None:
    """Now if a month is marked; else the earliest held pair or end of an open target's period."""
    async with context.reader() as uow:
        session, now = uow.session, uow.clock.now()
        for marks in (DIRTY, CLAIMED):
            if (await session.execute(select(marks.c.unit).limit(1))).first() is not None:
                return now
        held = (await session.execute(select(func.min(HELD.c.due_at)))).scalar()
        periods = (await session.execute(select(Target.period).where(Target.closed.is_(False)).distinct())).scalars()
    instants = [] if held is None else [held]
    for period in periods:
        try:
            instants.append(parse_period(period).end)
        except PeriodError:
            instants.append(now)  # the next pass closes it
    return min(instants, default=None)


async def sweep(context: ServiceContext, now: datetime) -> None:
    """One pass (the scheduler calls it again while something is due)."""
    await publish_pending(context)


PUBLISHER = Deadlines(
    "publisher",
    next_due=next_due,
    sweep=sweep,
    max_sleep=lambda settings: ScoringSettings.of(settings).scoring_publisher_max_sleep,
)


def poking_the_publisher(subscriptions: Sequence[Subscription]) -> list[Subscription]:
    """The consumer's subscriptions, each handler followed by ``uow.deadlines_moved()``: an event
    the consumer applies may have marked months, so the commit of its batch pokes the publisher
    (a batch of events already seen runs no handler and pokes nothing)."""
    return [replace(s, handlers={t: _poking(h) for t, h in s.handlers.items()}) for s in subscriptions]


def _poking(handler: Handler) -> Handler:
    async def handle(uow: UnitOfWork, event: CloudEvent) -> None:
        await handler(uow, event)
        uow.deadlines_moved()

    return handle
