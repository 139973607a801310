"""Reading dossiers: one by MaHoSo, or a filtered list paged by an opaque keyset cursor, within the
caller's unit scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, bindparam, cast, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers import store, views
from services.dossiers.codes import Timeliness
from services.dossiers.models import directory
from services.dossiers.schemas import DossierOut
from shared.clock import VN_TZ
from shared.db import Database, on_postgres
from shared.paging import MAX_PAGE, decode_cursor, encode_cursor
from shared.problems import NotFound
from shared.reads import Row
from shared.scope import WHOLE_SYSTEM, Scope


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
    apology_due: date | Literal["today"] | None = None  # the apology is due that day (Vietnam time)
    apology_due_before: datetime | date | Literal["today"] | None = None  # due by then (a day: its end)

    def apology_window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The apology filters as instants ``[low, high)``; ``today`` is the day of ``now`` in Vietnam."""
        today = now.astimezone(VN_TZ).date()

        def day_of(value: date | Literal["today"]) -> date:
            return today if value == "today" else value

        low = high = None
        if self.apology_due is not None:
            low = _day_start(day_of(self.apology_due))
            high = low + timedelta(days=1)  # Vietnam keeps no daylight saving time: a day is 24 hours
        before = self.apology_due_before
        if before is not None:
            end = before if isinstance(before, datetime) else _day_start(day_of(before) + timedelta(days=1))
            high = end if high is None else min(high, end)
        return low, high


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), VN_TZ)


D = store.DOSSIERS
_ONE = select(*(D.c[name] for name in views.COLUMNS)).where(D.c.ma_ho_so == bindparam("ma_ho_so"))


def to_out(row: dict[str, Any], scope: Scope = WHOLE_SYSTEM) -> DossierOut:
    """The dossier as the API shows it (personal data masked when ``scope`` hides it)."""
    return views.to_out(row, scope)


async def get_row(db: Database, ma_ho_so: str, scope: Scope = WHOLE_SYSTEM) -> Row:
    """The stored dossier (the columns a view shows), if its unit lies in ``scope`` (else it is
    absent): one statement, no session (``Database.read``)."""
    rows = await db.read(_ONE, {"ma_ho_so": ma_ho_so})
    if not rows or not scope.allows(rows[0]["unit_code"]):
        raise NotFound(f"No dossier {ma_ho_so}.")
    return rows[0]


async def get_dossier(db: Database, ma_ho_so: str, scope: Scope = WHOLE_SYSTEM) -> DossierOut:
    return views.to_out(await get_row(db, ma_ho_so, scope), scope)


async def list_rows(
    session: AsyncSession,
    where: DossierFilter,
    *,
    now: datetime,
    limit: int = 50,
    cursor: str | None = None,
    scope: Scope = WHOLE_SYSTEM,
    db: Database | None = None,
) -> tuple[list[Row], str | None]:
    """A page of dossiers of units in ``scope`` in MaHoSo order and the cursor of the next page
    (None on the last); a unit filter names a subtree, which the scope narrows; ``now`` says which
    day ``today`` is. With ``db`` the page is read at the driver's speed (``Database.read``, no
    session: about 10 µs less per row, which a 500-row page of a recount feels)."""
    size = min(limit, MAX_PAGE) + 1
    conditions = _conditions(where, now)
    after = decode_cursor(cursor)
    if after is not None:
        conditions.append(D.c.ma_ho_so > str(after[0]))
    units = await directory.descendants(session, where.unit) if where.unit else None
    if not scope.whole_system:
        units = scope.within(units) if units is not None else sorted(scope.units)
    query = _page(conditions, units, where.status or [], size, postgres=on_postgres(session))
    if db is not None:
        rows = await db.read(query, once=True)
    else:
        rows = [dict(m) for m in (await session.execute(query)).mappings()]
    page = rows[: size - 1]
    next_cursor = encode_cursor(page[-1]["ma_ho_so"]) if len(rows) > len(page) else None
    return page, next_cursor


def _conditions(where: DossierFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The filters but the unit and the status, which ``_page`` reads by index."""
    conditions: list[ColumnElement[bool]] = []
    if where.timeliness:
        conditions.append(D.c.timeliness.in_([t.value for t in where.timeliness]))
    if where.procedure:
        conditions.append(D.c.ma_tthc == where.procedure)
    if where.channel:
        conditions.append(D.c.channel == where.channel)
    for column, low, high in (
        (D.c.received_at, where.received_from, where.received_to),
        (D.c.due_at, where.due_from, where.due_to),
        (D.c.apology_due_at, *where.apology_window(now)),
    ):
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column < high)
    return conditions


def _page(
    conditions: list[ColumnElement[bool]], units: list[str] | None, statuses: list[int], size: int, *, postgres: bool
) -> Select[Any]:
    """The statement of a page. Units with sub-units, or a unit in several statuses, on PostgreSQL:
    the first ``size`` keys of each unit (of each (unit, status) pair), read in order from
    ``ix_dossiers_unit_code`` (unit, MaHoSo) or ``ix_dossiers_unit_code_status`` (unit, status,
    MaHoSo), then the first ``size`` of those; an ``IN`` would read every dossier of the province
    and sort them, or check the status of every dossier of the unit (docs/performance.md, "Lists")."""
    columns = [D.c[name] for name in views.COLUMNS]
    each_status: list[int | None] = [*statuses] or [None]
    pairs = [(unit, status) for unit in units or [] for status in each_status]
    if units is None or len(pairs) == 1 or not postgres:
        if units is not None:
            conditions = [*conditions, D.c.unit_code.in_(units)]
        if statuses:
            conditions = [*conditions, D.c.status.in_(statuses)]
        return select(*columns).where(*conditions).order_by(D.c.ma_ho_so).limit(size)
    arrays = [cast([unit for unit, _ in pairs], ARRAY(D.c.unit_code.type))]
    if statuses:
        arrays.append(cast([status for _, status in pairs], ARRAY(D.c.status.type)))
    each = func.unnest(*arrays).table_valued(*(["code", "status"] if statuses else ["code"])).render_derived()
    if statuses:
        conditions = [*conditions, D.c.status == each.c.status]
    first = (
        select(D.c.ma_ho_so)
        .where(D.c.unit_code == each.c.code, *conditions)
        .order_by(D.c.ma_ho_so)
        .limit(size)
        .lateral()
    )
    keys = select(first.c.ma_ho_so).select_from(each).join(first, true()).order_by(first.c.ma_ho_so).limit(size)
    return select(*columns).where(D.c.ma_ho_so.in_(keys.scalar_subquery())).order_by(D.c.ma_ho_so)


async def list_dossiers(
    session: AsyncSession,
    where: DossierFilter,
    *,
    now: datetime,
    limit: int = 50,
    cursor: str | None = None,
    scope: Scope = WHOLE_SYSTEM,
) -> tuple[list[DossierOut], str | None]:
    rows, next_cursor = await list_rows(session, where, now=now, limit=limit, cursor=cursor, scope=scope)
    return [views.to_out(row, scope) for row in rows], next_cursor
