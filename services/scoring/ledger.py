"""The write side of the read model: per-dossier and per-task state, and the counters they add up to.

Every event loads the state it concerns, changes it, and adds (new contribution − old
contribution) to the counters, so the counters are always the sum of the contributions of the
states kept: no drift, whatever the order or repetition of the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring import rules
from services.scoring.models import COUNTERS_TABLE, DirtyMonth, directory
from services.scoring.models import DossierState as DossierRow
from services.scoring.models import TaskState as TaskRow
from shared.db import upsert
from shared.uow import UnitOfWork

DOSSIERS, TASKS, DIRTY = DossierRow.__table__, TaskRow.__table__, DirtyMonth.__table__
_STATE_FIELDS = {f.name for f in fields(rules.DossierState)}
KEY = ("unit", "month", "procedure", "channel")


def state_of(row: dict) -> rules.DossierState:
    """The rule's view of a stored row: supplement requests are the most either source counted."""
    state = rules.DossierState(**{k: v for k, v in row.items() if k in _STATE_FIELDS})
    state.supplements = max(row["supplements"], row["supplements_seen"])
    return state


def new_dossier_row(ma_ho_so: str) -> dict:
    return {
        **asdict(rules.DossierState(ma_ho_so)),
        "due_set_at": None,
        "resolved": False,
        "supplements_seen": 0,
    }


async def change_dossier(uow: UnitOfWork, ma_ho_so: str, change: Callable[[dict], None]) -> None:
    """Load (or start) the dossier's row, let ``change`` edit it, and move the counters accordingly."""
    session = uow.session
    found = (await session.execute(select(DOSSIERS).where(DOSSIERS.c.ma_ho_so == ma_ho_so))).mappings().first()
    row = dict(found) if found else new_dossier_row(ma_ho_so)
    before = rules.contribution(state_of(row))
    change(row)
    after = rules.contribution(state_of(row))
    statement = upsert(session, DOSSIERS).values(**row)
    await session.execute(statement.on_conflict_do_update(index_elements=["ma_ho_so"], set_={k: statement.excluded[k] for k in row if k != "ma_ho_so"}))
    await add_to_counters(session, rules.delta(before, after))


async def change_task(uow: UnitOfWork, key: str, unit: str, role: str, change: Callable[[rules.TaskState], None]) -> None:
    session = uow.session
    found = (await session.execute(select(TASKS).where(TASKS.c.key == key))).mappings().first()
    task = rules.TaskState(**found) if found else rules.TaskState(key=key, unit=unit, role=role)
    before = rules.task_contribution(task)
    change(task)
    after = rules.task_contribution(task)
    values = asdict(task)
    statement = upsert(session, TASKS).values(**values)
    await session.execute(statement.on_conflict_do_update(index_elements=["key"], set_={k: statement.excluded[k] for k in values if k != "key"}))
    await add_to_counters(session, rules.delta(before, after))


async def add_to_counters(session: AsyncSession, rows: dict[rules.RowKey, dict[str, int]]) -> None:
    """Add amounts to counter rows (created at zero), and mark their (unit, month) for the publisher."""
    if not rows:
        return
    values = [{**dict(zip(KEY, key, strict=True)), **{c: change.get(c, 0) for c in rules.COUNTERS}} for key, change in rows.items()]
    statement = upsert(session, COUNTERS_TABLE).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY), set_={c: COUNTERS_TABLE.c[c] + statement.excluded[c] for c in rules.COUNTERS}
    )
    await session.execute(statement)
    await mark_dirty(session, {(unit, month) for unit, month, _, _ in rows})


async def mark_dirty(session: AsyncSession, pairs: Iterable[tuple[str, int]]) -> None:
    values = [{"unit": unit, "month": month} for unit, month in sorted(pairs)]
    if values:
        await session.execute(upsert(session, DIRTY).values(values).on_conflict_do_nothing())


async def mark_subtree_dirty(session: AsyncSession, unit: str, *also: str | None) -> None:
    """A unit moved in the tree: every month its subtree has counters for changes for it and ``also``."""
    units = await directory.descendants(session, unit)
    months = (await session.execute(select(COUNTERS_TABLE.c.month).where(COUNTERS_TABLE.c.unit.in_(units)).distinct())).scalars()
    await mark_dirty(session, {(u, m) for m in months for u in (unit, *also) if u is not None})
