"""The write side of the read model: per-dossier and per-task state, and the counters they add up to.

Every change loads the state it concerns, edits it, and adds (new contribution − old
contribution) to the counters, so the counters are always the sum of the contributions of the
states kept: no drift, whatever the order or repetition of the events. Dossier changes are gathered
over the consumer's batch and written just before it commits (a few statements per batch).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring import rules
from services.scoring.models import COUNTERS_TABLE, PROCEDURE_MONTHS, UNIT_MONTHS, DirtyMonth, directory
from services.scoring.models import DossierState as DossierRow
from services.scoring.models import TaskState as TaskRow
from shared.db import on_postgres, one_of, upsert, upsert_rows
from shared.uow import UnitOfWork

DOSSIERS, TASKS, DIRTY = DossierRow.__table__, TaskRow.__table__, DirtyMonth.__table__
_STATE_FIELDS = {f.name for f in fields(rules.DossierState)}
KEY = ("unit", "month", "procedure", "channel")


def state_of(row: dict) -> rules.DossierState:
    """The rule's view of a stored row: supplement requests are the most either source counted."""
    state = rules.DossierState(**{k: v for k, v in row.items() if k in _STATE_FIELDS})
    state.supplements = max(row["supplements"], row["supplements_seen"])
    return state


_EMPTY_ROW = {**asdict(rules.DossierState("")), "due_set_at": None, "resolved": False, "supplements_seen": 0}


def new_dossier_row(ma_ho_so: str) -> dict:
    return {**_EMPTY_ROW, "ma_ho_so": ma_ho_so}


GATHERED = "scoring.dossiers"
CHUNK = 500


def change_dossier(uow: UnitOfWork, ma_ho_so: str, change: Callable[[dict], None]) -> None:
    """Have ``change`` edit the dossier's row (started empty if unknown) when the batch commits:
    a batch's dossiers are read, changed in event order and written back in a few statements."""
    pending: dict[str, list[Callable[[dict], None]]] | None = uow.gathered.get(GATHERED)
    if pending is None:
        pending = uow.gathered[GATHERED] = {}
        uow.before_commit(lambda: _write_dossiers(uow.session, pending))
    pending.setdefault(ma_ho_so, []).append(change)


async def _write_dossiers(session: AsyncSession, pending: dict[str, list[Callable[[dict], None]]]) -> None:
    keys = sorted(pending)  # rows locked in one order by every consumer instance
    found: dict[str, dict] = {}
    chunk = len(keys) if on_postgres(session) else CHUNK  # one array parameter on PostgreSQL
    for start in range(0, len(keys), chunk):
        query = select(DOSSIERS).where(one_of(session, DOSSIERS.c.ma_ho_so, keys[start : start + chunk]))
        found.update((row["ma_ho_so"], dict(row)) for row in (await session.execute(query)).mappings())
    rows: list[dict] = []
    change: rules.Contribution = Counter()
    for key in keys:
        row = found.get(key) or new_dossier_row(key)
        change.subtract(rules.contribution(state_of(row)))
        for edit in pending[key]:
            edit(row)
        change.update(rules.contribution(state_of(row)))
        rows.append(row)
    await upsert_rows(session, DOSSIERS, rows, _replace(["ma_ho_so"], rows[0]))
    await add_to_counters(session, rules.by_row(change))


async def change_task(
    uow: UnitOfWork, key: str, unit: str, role: str, change: Callable[[rules.TaskState], None]
) -> None:
    session = uow.session
    found = (await session.execute(select(TASKS).where(TASKS.c.key == key))).mappings().first()
    task = rules.TaskState(**found) if found else rules.TaskState(key=key, unit=unit, role=role)
    before = rules.task_contribution(task)
    change(task)
    after = rules.task_contribution(task)
    values = asdict(task)
    statement = upsert(session, TASKS).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={k: statement.excluded[k] for k in values if k != "key"}
        )
    )
    await add_to_counters(session, rules.delta(before, after))


async def add_to_counters(session: AsyncSession, rows: dict[rules.RowKey, dict[str, int]]) -> None:
    """Add amounts to counter rows (created at zero) and to their roll-ups, and mark their
    (unit, month) for the publisher."""
    if not rows:
        return
    months: dict[tuple[str, int], Counter[str]] = {}
    procedures: dict[tuple[str, int, str], Counter[str]] = {}
    for (unit, month, procedure, channel), change in rows.items():
        total = months.setdefault((unit, month), Counter())
        total.update(change)
        if channel == rules.ONLINE_CHANNEL and "received" in change:
            total["received_online"] += change["received"]
        fees = {c: change[c] for c in rules.PER_PROCEDURE if c in change}
        if fees:
            procedures.setdefault((unit, month, procedure), Counter()).update(fees)
    await _add(session, COUNTERS_TABLE, KEY, rules.COUNTERS, rows.items())
    await _add(session, UNIT_MONTHS, KEY[:2], (*rules.COUNTERS, "received_online"), months.items())
    await _add(session, PROCEDURE_MONTHS, KEY[:3], rules.PER_PROCEDURE, procedures.items())
    await mark_dirty(session, months)


async def _add(
    session: AsyncSession,
    table: Table,
    key: Sequence[str],
    columns: Sequence[str],
    rows: Iterable[tuple[tuple, Mapping[str, int]]],
) -> None:
    values = [{**dict(zip(key, k, strict=True)), **change} for k, change in sorted(rows, key=itemgetter(0))]
    if values:
        await upsert_rows(
            session,
            table,
            values,
            lambda i: i.on_conflict_do_update(
                index_elements=list(key), set_={c: table.c[c] + i.excluded[c] for c in columns}
            ),
            defaults=dict.fromkeys(columns, 0),  # rows hold only the counters that moved
        )


def _replace(key: Sequence[str], row: Mapping[str, object]) -> Callable[[Any], Any]:
    """The ``ON CONFLICT`` clause that overwrites every column of ``row`` but the key."""
    return lambda i: i.on_conflict_do_update(
        index_elements=list(key), set_={k: i.excluded[k] for k in row if k not in key}
    )


async def mark_dirty(session: AsyncSession, pairs: Iterable[tuple[str, int]]) -> None:
    values = [{"unit": unit, "month": month} for unit, month in sorted(set(pairs))]
    if values:
        await upsert_rows(session, DIRTY, values, lambda i: i.on_conflict_do_nothing())


async def mark_subtree_dirty(session: AsyncSession, unit: str, *also: str | None) -> None:
    """A unit moved in the tree: every month its subtree has counters for changes for it and ``also``."""
    units = await directory.descendants(session, unit)
    months = (
        await session.execute(select(UNIT_MONTHS.c.month).where(UNIT_MONTHS.c.unit.in_(units)).distinct())
    ).scalars()
    await mark_dirty(session, {(u, m) for m in months for u in (unit, *also) if u is not None})
