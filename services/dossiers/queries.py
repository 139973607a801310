"""Reading dossiers: one by MaHoSo, or a filtered list paged by an opaque keyset cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers import store, views
from services.dossiers.codes import Timeliness
from services.dossiers.models import directory
from services.dossiers.schemas import DossierOut
from shared.db import Database
from shared.paging import MAX_PAGE, decode_cursor, encode_cursor
from shared.problems import NotFound
from shared.reads import Row


@dataclass(frozen=True)
class DossierFilter:
    unit: str | None = None  # the unit and every unit below it
    status: list[int] | None = None
    timeliness: list[Timeliness] | None = None
    procedure: str | None = None
    channel: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None


D = store.DOSSIERS
_ONE = select(*(D.c[name] for name in views.COLUMNS)).where(D.c.ma_ho_so == bindparam("ma_ho_so"))


async def get_row(db: Database, ma_ho_so: str) -> Row:
    """The stored dossier (the columns a view shows): one statement, no session (``Database.read``)."""
    rows = await db.read(_ONE, {"ma_ho_so": ma_ho_so})
    if not rows:
        raise NotFound(f"No dossier {ma_ho_so}.")
    return rows[0]


async def get_dossier(db: Database, ma_ho_so: str) -> DossierOut:
    return views.to_out(await get_row(db, ma_ho_so))


async def list_rows(
    session: AsyncSession, where: DossierFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Row], str | None]:
    """A page of dossiers in MaHoSo order and the cursor of the next page (None on the last)."""
    query = select(*(D.c[name] for name in views.COLUMNS)).order_by(D.c.ma_ho_so).limit(min(limit, MAX_PAGE) + 1)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(D.c.ma_ho_so > str(after[0]))
    if where.unit:
        query = query.where(D.c.unit_code.in_(await directory.descendants(session, where.unit)))
    if where.status:
        query = query.where(D.c.status.in_(where.status))
    if where.timeliness:
        query = query.where(D.c.timeliness.in_([t.value for t in where.timeliness]))
    if where.procedure:
        query = query.where(D.c.ma_tthc == where.procedure)
    if where.channel:
        query = query.where(D.c.channel == where.channel)
    for column, low, high in (
        (D.c.received_at, where.received_from, where.received_to),
        (D.c.due_at, where.due_from, where.due_to),
    ):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column < high)
    rows = [dict(m) for m in (await session.execute(query)).mappings()]
    page = rows[: min(limit, MAX_PAGE)]
    next_cursor = encode_cursor(page[-1]["ma_ho_so"]) if len(rows) > len(page) else None
    return page, next_cursor


async def list_dossiers(
    session: AsyncSession, where: DossierFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[DossierOut], str | None]:
    rows, next_cursor = await list_rows(session, where, limit=limit, cursor=cursor)
    return [views.to_out(row) for row in rows], next_cursor
