"""Reading and writing dossiers in bulk: a batch is one ``SELECT``, one ``INSERT`` (``COPY``) and one ``UPDATE``."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers import models
from services.dossiers.dossier import COLUMNS, Dossier
from shared.db import insert_rows, rows_by_key, upsert
from shared.pacing import paced
from shared.scope import WHOLE_SYSTEM, Scope

DOSSIERS = models.Dossier.__table__
_UPDATE = (
    update(DOSSIERS)
    .where(DOSSIERS.c.ma_ho_so == bindparam("key_"))
    .values({name: bindparam(name) for name in COLUMNS if name != "ma_ho_so"})
)


async def load(
    session: AsyncSession, keys: Collection[str], *, lock: bool = True, scope: Scope = WHOLE_SYSTEM
) -> dict[str, Dossier]:
    """The stored dossiers of ``keys`` (those of units in ``scope``), locked for the rest of the
    transaction on PostgreSQL."""
    if not keys:
        return {}
    result = await rows_by_key(
        session, DOSSIERS, DOSSIERS.c.ma_ho_so, keys, scope.where(DOSSIERS.c.unit_code), lock=lock
    )
    return {row["ma_ho_so"]: Dossier.from_row(row) async for row in paced(result.mappings())}


async def insert_new(session: AsyncSession, dossiers: Sequence[Dossier]) -> set[str]:
    """Insert the dossiers whose key is free; returns the keys inserted (a concurrent writer may have won others)."""
    if not dossiers:
        return set()
    rows = [dossier.to_row() async for dossier in paced(dossiers)]
    try:  # the usual case, a bulk insert; a key taken meanwhile sends the batch the slow way
        async with session.begin_nested():
            await insert_rows(session, DOSSIERS, rows, COLUMNS)
        return {row["ma_ho_so"] for row in rows}
    except IntegrityError:
        pass
    statement = (
        upsert(session, DOSSIERS).on_conflict_do_nothing(index_elements=["ma_ho_so"]).returning(DOSSIERS.c.ma_ho_so)
    )
    return set((await session.execute(statement, rows)).scalars())


async def save(session: AsyncSession, dossiers: Iterable[Dossier]) -> None:
    """Write the dossiers back, every column, in one statement."""
    params = [_keyed(dossier.to_row()) async for dossier in paced(dossiers)]
    if params:
        await session.execute(_UPDATE, params)


def _keyed(row: dict[str, object]) -> dict[str, object]:
    """The ``UPDATE``'s parameters: the key apart, as ``key_``, so the statement does not set it."""
    row["key_"] = row.pop("ma_ho_so")
    return row
