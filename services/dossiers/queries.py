"""Reading dossiers: one by MaHoSo, or a filtered list paged by an opaque keyset cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers import store
from services.dossiers.codes import ON_TIME, Status, Timeliness
from services.dossiers.models import directory
from services.dossiers.schemas import DossierOut
from shared.paging import MAX_PAGE, decode_cursor, encode_cursor
from shared.personal import masked
from shared.problems import NotFound
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


def to_out(row: dict[str, Any], scope: Scope = WHOLE_SYSTEM) -> DossierOut:
    """The dossier as the API shows it. When ``scope`` hides personal data, the applicant comes
    masked and ``extra`` empty (the provincial fields this service does not read, such as
    ``DinhDanhCHS``, the applicant's identity papers, may hold anything)."""
    applicant = {
        "name": row["applicant_name"],
        "id_number": row["applicant_id_number"],
        "type": row["applicant_type"],
        "email": row["email"],
        "phone": row["phone"],
        "address": row["address"],
    }
    return DossierOut(
        ma_ho_so=row["ma_ho_so"],
        origin=row["origin"],
        status=row["status"],
        status_label=Status(row["status"]).label,
        unit=row["unit_code"],
        agency=row["agency"],
        procedure={
            "code": row["ma_tthc"],
            "name": row["procedure_name"],
            "field_code": row["field_code"],
            "field_name": row["field_name"],
        },
        channel=row["channel"],
        applicant=applicant if scope.personal_data else masked(applicant),
        summary=row["summary"],
        submitted_at=row["submitted_at"],
        received_at=row["received_at"],
        due_at=row["due_at"],
        original_due_at=row["original_due_at"],
        finished_at=row["finished_at"],
        returned_at=row["returned_at"],
        timeliness=row["timeliness"],
        on_time=row["timeliness"] in ON_TIME if Status(row["status"]).is_finished else None,
        rule_set=row["rule_set"],
        supplement_count=row["supplement_count"],
        paid_online=row["paid_online"],
        digitised=row["digitised"],
        pauses=row["pauses"],
        status_history=row["status_history"],
        due_history=row["due_history"],
        apology=row["apology"],
        documents=row["documents"],
        fees=row["fees"],
        result_papers=row["result_papers"],
        extra=row["extra"] if scope.personal_data else {},
        version=row["version"],
        updated_at=row["updated_at"],
    )


async def get_dossier(session: AsyncSession, ma_ho_so: str, scope: Scope = WHOLE_SYSTEM) -> DossierOut:
    """The dossier, if its unit lies in ``scope`` (else it is absent)."""
    row = (await store.load_rows(session, [ma_ho_so], lock=False, scope=scope)).get(ma_ho_so)
    if row is None:
        raise NotFound(f"No dossier {ma_ho_so}.")
    return to_out(row, scope)


async def list_dossiers(
    session: AsyncSession,
    where: DossierFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    scope: Scope = WHOLE_SYSTEM,
) -> tuple[list[DossierOut], str | None]:
    """A page of dossiers of units in ``scope`` in MaHoSo order and the cursor of the next page
    (None on the last); a unit filter names a subtree, which the scope narrows."""
    D = store.DOSSIERS
    query = select(D).where(scope.where(D.c.unit_code)).order_by(D.c.ma_ho_so).limit(min(limit, MAX_PAGE) + 1)
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
    return [to_out(row, scope) for row in page], next_cursor
