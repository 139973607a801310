"""Reading and writing dossier rows in bulk, and the reference data that ingest needs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers.models import Dossier
from services.dossiers.rows import Row
from shared.db import insert_rows, on_postgres, one_of, upsert
from shared.scope import WHOLE_SYSTEM, Scope

DOSSIERS = Dossier.__table__
COLUMNS = [c.name for c in DOSSIERS.columns]
_UPDATE = (
    update(DOSSIERS)
    .where(DOSSIERS.c.ma_ho_so == bindparam("key_"))
    .values({name: bindparam(name) for name in COLUMNS if name != "ma_ho_so"})
)


async def load_rows(
    session: AsyncSession, keys: Collection[str], *, lock: bool = True, scope: Scope = WHOLE_SYSTEM
) -> dict[str, Row]:
    """The stored rows of ``keys`` (those of units in ``scope``), locked for the rest of the
    transaction on PostgreSQL."""
    if not keys:
        return {}
    query = select(DOSSIERS).where(one_of(session, DOSSIERS.c.ma_ho_so, keys), scope.where(DOSSIERS.c.unit_code))
    if lock and on_postgres(session):
        query = query.with_for_update()
    result = await session.execute(query)
    return {row["ma_ho_so"]: dict(row) for row in result.mappings()}


async def insert_new(session: AsyncSession, rows: Sequence[Row]) -> set[str]:
    """Insert rows whose key is free; returns the keys inserted (a concurrent writer may have won others)."""
    if not rows:
        return set()
    try:  # the usual case, a bulk insert; a key taken meanwhile sends the batch the slow way
        async with session.begin_nested():
            await insert_rows(session, DOSSIERS, rows, COLUMNS)
        return {row["ma_ho_so"] for row in rows}
    except IntegrityError:
        pass
    params = [{name: row[name] for name in COLUMNS} for row in rows]
    statement = (
        upsert(session, DOSSIERS).on_conflict_do_nothing(index_elements=["ma_ho_so"]).returning(DOSSIERS.c.ma_ho_so)
    )
    return set((await session.execute(statement, params)).scalars())


async def update_rows(session: AsyncSession, rows: Iterable[Row]) -> None:
    params = [{"key_": row["ma_ho_so"], **{n: row[n] for n in COLUMNS if n != "ma_ho_so"}} for row in rows]
    if params:
        await session.execute(_UPDATE, params)
