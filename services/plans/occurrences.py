"""Obligations and their occurrences: bulk creation, following new due dates, and the roll-up of
an obligation from its occurrences (no HTTP, no commits)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.models import Obligation, Occurrence
from services.plans.schemas import ProgressStatus

_OBLIGATIONS = Obligation.__table__  # Core tables: bulk inserts without the ORM's per-row bookkeeping
_OCCURRENCES = Occurrence.__table__


@dataclass(frozen=True)
class NewObligation:
    node_id: int
    unit_code: str
    role: str
    group_code: str | None
    dues: Sequence[date]


async def insert_obligations(
    session: AsyncSession, plan_id: int, now: datetime, owners: Sequence[NewObligation]
) -> list[int]:
    """Write not-started obligations, each with an occurrence per due date; their ids, in order."""
    if not owners:
        return []
    rows: list[dict[str, Any]] = [
        {
            "plan_id": plan_id,
            "node_id": o.node_id,
            "unit_code": o.unit_code,
            "role": o.role,
            "group_code": o.group_code,
            "status": ProgressStatus.not_started.value,
            "percent": 0.0,
            "evidence": [],
            "due": max(o.dues) if o.dues else None,
            "version": 1,
            "updated_at": now,
        }
        for o in owners
    ]
    written = await session.execute(
        insert(_OBLIGATIONS).returning(
            _OBLIGATIONS.c.node_id, _OBLIGATIONS.c.unit_code, _OBLIGATIONS.c.role, _OBLIGATIONS.c.id
        ),
        rows,
    )
    by_key = {(node_id, code, role): obligation_id for node_id, code, role, obligation_id in written}
    ids = [by_key[(o.node_id, o.unit_code, o.role)] for o in owners]
    occurrence_rows = [
        {"obligation_id": obligation_id, "plan_id": plan_id, "unit_code": o.unit_code, "due": due}
        for o, obligation_id in zip(owners, ids, strict=True)
        for due in o.dues
    ]
    if occurrence_rows:
        await session.execute(insert(_OCCURRENCES), occurrence_rows)
    return ids


async def follow_dues(
    session: AsyncSession, obligations: Sequence[Obligation], dues: Sequence[date], now: datetime
) -> None:
    """Give these obligations (of one node) occurrences on ``dues``, keeping what was reported.

    Occurrences already on one of the dates stay; the others move, in date order, to the dates
    nobody has (their progress moves with them); left-over ones are deleted unless something was
    reported on them; missing dates get new occurrences, which start where an obligation without
    occurrences stood. The obligations' ``due`` becomes the last date and their progress is rolled
    up again.
    """
    ids = [o.id for o in obligations]
    current: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in await session.scalars(
        select(Occurrence).where(Occurrence.obligation_id.in_(ids)).order_by(Occurrence.due)
    ):
        current[occurrence.obligation_id].append(occurrence)
    wanted = sorted(set(dues))
    created: list[dict[str, object]] = []
    dropped: list[int] = []
    for obligation in obligations:
        mine = current[obligation.id]
        taken = {o.due for o in mine}
        free = [due for due in wanted if due not in taken]
        movers = [o for o in mine if o.due not in wanted]
        for occurrence, due in zip(movers, free, strict=False):
            occurrence.due = due
            if occurrence.done_on is not None:
                occurrence.on_time = occurrence.done_on <= due
        dropped += [o.id for o in movers[len(free) :] if o.status == ProgressStatus.not_started]
        start = _start_of(obligation) if not mine else {}
        created += [
            {
                "obligation_id": obligation.id,
                "plan_id": obligation.plan_id,
                "unit_code": obligation.unit_code,
                "due": due,
                **start,
                **({"on_time": obligation.completed_on <= due} if obligation.completed_on else {}),
            }
            for due in free[len(movers) :]
        ]
        obligation.due = wanted[-1] if wanted else None
    await session.flush()
    if dropped:
        await session.execute(delete(Occurrence).where(Occurrence.id.in_(dropped)))
    for row in created:  # rows differ in their columns: one statement each
        await session.execute(insert(_OCCURRENCES).values(**row))
    await refresh_obligations(session, ids, now)


def _start_of(obligation: Obligation) -> dict[str, object]:
    """Where the first occurrences of an obligation that had none start: where it stood."""
    return {
        "status": obligation.status,
        "percent": obligation.percent,
        "done_on": obligation.completed_on,
    }


async def refresh_obligations(session: AsyncSession, obligation_ids: Sequence[int], now: datetime) -> None:
    """Roll each obligation with occurrences up from them: done when all are, in progress when one
    has progress; the mean percent; the last completion date and on time when all were. An
    obligation whose values change gets a new version (objects in the session are not updated)."""
    rows: dict[int, list[tuple[str, float, date | None, bool | None]]] = defaultdict(list)
    for obligation_id, status, percent, done_on, on_time in await session.execute(
        select(
            Occurrence.obligation_id, Occurrence.status, Occurrence.percent, Occurrence.done_on, Occurrence.on_time
        ).where(Occurrence.obligation_id.in_(obligation_ids))
    ):
        rows[obligation_id].append((status, percent, done_on, on_time))
    if not rows:
        return
    changed = []
    current = select(Obligation).where(Obligation.id.in_(list(rows))).execution_options(populate_existing=True)
    for obligation in await session.scalars(current):
        values = _rolled_up(rows[obligation.id])
        if any(getattr(obligation, key) != value for key, value in values.items()):
            changed.append({"id": obligation.id, **values, "version": obligation.version + 1, "updated_at": now})
    if changed:
        await session.execute(update(Obligation), changed)  # bulk UPDATE by primary key


def _rolled_up(occurrences: list[tuple[str, float, date | None, bool | None]]) -> dict[str, object]:
    done = [(done_on, on_time) for status, _, done_on, on_time in occurrences if status == ProgressStatus.done]
    all_done = len(done) == len(occurrences)
    started = done or any(status != ProgressStatus.not_started for status, _, _, _ in occurrences)
    status = ProgressStatus.done if all_done else ProgressStatus.in_progress if started else ProgressStatus.not_started
    return {
        "status": status.value,
        "percent": round(
            sum(100.0 if s == ProgressStatus.done else p for s, p, _, _ in occurrences) / len(occurrences), 4
        ),
        "completed_on": max((d for d, _ in done if d is not None), default=None) if all_done else None,
        "on_time": all(bool(t) for _, t in done) if all_done else None,
    }
