"""The write side of the read model: per-dossier and per-task state, and the counters they add up to.

Every change loads the state it concerns, edits it, and adds (new contribution − old
contribution) to the counters, so the counters are always the sum of the contributions of the
states kept: no drift, whatever the order or repetition of the events. Dossier changes are gathered
over the consumer's batch and written just before it commits: one read of their states, one
statement writing the states, counters, roll-ups and dirty months.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring import rules
from services.scoring.models import (
    COUNTERS_TABLE,
    PROCEDURE_MONTHS,
    UNIT_MONTHS,
    ClaimedMonth,
    DirtyMonth,
    directory,
)
from services.scoring.models import DossierState as DossierRow
from services.scoring.models import TaskState as TaskRow
from shared.db import Upsert, on_postgres, rows_by_key, upsert, upsert_all
from shared.uow import UnitOfWork

DOSSIERS, TASKS, DIRTY, CLAIMED = DossierRow.__table__, TaskRow.__table__, DirtyMonth.__table__, ClaimedMonth.__table__
KEY = ("unit", "month", "procedure", "channel")


def state_of(row: Mapping[str, Any]) -> rules.DossierState:
    """The rule's view of a stored row: supplement requests are the most either source counted."""
    return rules.DossierState(
        row["ma_ho_so"],
        row["unit"],
        row["procedure"],
        row["channel"],
        row["received_at"],
        row["due_at"],
        row["finished_at"],
        max(row["supplements"], row["supplements_seen"]),
        row["overdue_due"],
        row["has_fees"],
        row["paid_online"],
        row["digitised"],
        row["reused"],
        row["apologised"],
    )


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
        result = await rows_by_key(session, DOSSIERS, DOSSIERS.c.ma_ho_so, keys[start : start + chunk])
        names = list(result.keys())
        for record in result:
            state = dict(zip(names, record, strict=True))  # a third of the cost of dict(RowMapping)
            found[state["ma_ho_so"]] = state
    rows: list[dict] = []
    change: dict[rules.RowKey, dict[str, int]] = {}
    for key in keys:
        row = found.get(key)
        if row is None:  # a dossier first seen: it counted nowhere yet
            row, before = new_dossier_row(key), []
        else:
            before = rules.points(state_of(row))
        for edit in pending[key]:
            edit(row)
        after = rules.points(state_of(row))
        if after != before:  # only the points that moved (each point once in a list)
            _tally(change, [p for p in before if p not in after], -1)
            _tally(change, [p for p in after if p not in before], 1)
        rows.append(row)
    moved = ((key, {c: a for c, a in amounts.items() if a}) for key, amounts in change.items())
    counters = counter_upserts({key: amounts for key, amounts in moved if amounts})
    await upsert_all(session, [Upsert(DOSSIERS, rows, _REPLACE_DOSSIER), *counters])  # one round trip


def _tally(rows: dict[rules.RowKey, dict[str, int]], points: list[tuple[rules.RowKey, str]], sign: int) -> None:
    for key, counter in points:
        amounts = rows.get(key)
        if amounts is None:
            rows[key] = {counter: sign}
        else:
            amounts[counter] = amounts.get(counter, 0) + sign


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
    await upsert_all(session, counter_upserts(rows))


def counter_upserts(rows: dict[rules.RowKey, dict[str, int]]) -> list[Upsert]:
    """What :func:`add_to_counters` writes: the counter rows, their roll-ups and the dirty months,
    each in key order (two consumer instances lock shared rows in one order)."""
    counters: list[dict[str, Any]] = []
    months: dict[tuple[str, int], dict[str, Any]] = {}
    procedures: dict[tuple[str, int, str], dict[str, Any]] = {}
    for (unit, month, procedure, channel), change in sorted(rows.items(), key=itemgetter(0)):
        counters.append({"unit": unit, "month": month, "procedure": procedure, "channel": channel, **change})
        total = months.get((unit, month))
        if total is None:
            total = months[unit, month] = {"unit": unit, "month": month}
        for counter, amount in change.items():
            total[counter] = total.get(counter, 0) + amount
        if channel == rules.ONLINE_CHANNEL and "received" in change:
            total["received_online"] = total.get("received_online", 0) + change["received"]
        if "fin_fees" in change or "fin_paid_online" in change:
            fees = procedures.get((unit, month, procedure))
            if fees is None:
                fees = procedures[unit, month, procedure] = {"unit": unit, "month": month, "procedure": procedure}
            for counter in rules.PER_PROCEDURE:
                if counter in change:
                    fees[counter] = fees.get(counter, 0) + change[counter]
    return [
        _adding_to(COUNTERS_TABLE, counters),
        _adding_to(UNIT_MONTHS, [months[k] for k in sorted(months)]),
        _adding_to(PROCEDURE_MONTHS, [procedures[k] for k in sorted(procedures)]),
        _dirty(months),
    ]


def _adding(table: Table, key: Sequence[str], columns: Sequence[str]) -> Callable[[Any], Any]:
    """The conflict clause that adds a row's amounts to the stored ones."""
    return lambda i: i.on_conflict_do_update(
        index_elements=list(key), set_={c: table.c[c] + i.excluded[c] for c in columns}
    )


_MONTH_COUNTERS = (*rules.COUNTERS, "received_online")
_COUNTED = {  # table → (its counters, the conflict clause adding to them): built once, statements reused
    COUNTERS_TABLE: (rules.COUNTERS, _adding(COUNTERS_TABLE, KEY, rules.COUNTERS)),
    UNIT_MONTHS: (_MONTH_COUNTERS, _adding(UNIT_MONTHS, KEY[:2], _MONTH_COUNTERS)),
    PROCEDURE_MONTHS: (rules.PER_PROCEDURE, _adding(PROCEDURE_MONTHS, KEY[:3], rules.PER_PROCEDURE)),
}


def _adding_to(table: Table, values: list[dict[str, Any]]) -> Upsert:
    """Add each row's amounts to ``table`` (rows hold only the counters that moved)."""
    columns, on_conflict = _COUNTED[table]
    return Upsert(table, values, on_conflict, dict.fromkeys(columns, 0))


def _replace(key: Sequence[str], table: Table) -> Callable[[Any], Any]:
    """The ``ON CONFLICT`` clause that overwrites every column but the key."""
    return lambda i: i.on_conflict_do_update(
        index_elements=list(key), set_={c.name: i.excluded[c.name] for c in table.columns if c.name not in key}
    )


_REPLACE_DOSSIER = _replace(["ma_ho_so"], DOSSIERS)


def _nothing(insert: Any) -> Any:
    return insert.on_conflict_do_nothing()


async def mark_dirty(session: AsyncSession, pairs: Iterable[tuple[str, int]]) -> None:
    await upsert_all(session, [_dirty(pairs)])


def _dirty(pairs: Iterable[tuple[str, int]], table: Table = DIRTY) -> Upsert:
    return Upsert(table, [{"unit": unit, "month": month} for unit, month in sorted(set(pairs))], _nothing)


async def claim_marks(session: AsyncSession) -> None:
    """Move the marked months to ``claimed_months``: the publisher does it in a short transaction
    of its own, so marking a month never waits for its pass (:mod:`services.scoring.publisher`)."""
    marks = (await session.execute(delete(DIRTY).returning(DIRTY.c.unit, DIRTY.c.month))).all()
    await upsert_all(session, [_dirty(marks, CLAIMED)])


async def mark_subtree_dirty(session: AsyncSession, unit: str, *also: str | None) -> None:
    """A unit moved in the tree: every month its subtree has counters for changes for it and ``also``."""
    units = await directory.descendants(session, unit)
    months = (
        await session.execute(select(UNIT_MONTHS.c.month).where(UNIT_MONTHS.c.unit.in_(units)).distinct())
    ).scalars()
    await mark_dirty(session, {(u, m) for m in months for u in (unit, *also) if u is not None})
