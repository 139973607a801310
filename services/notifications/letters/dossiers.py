"""The letters' copy of each dossier, fed by the dossiers service's events (event-carried state)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.letters.models import LetterDossier
from services.notifications.letters.schemas import DossierFactsIn
from shared.db import upsert
from shared.problems import NotFound
from shared.scope import WHOLE_SYSTEM, Scope

DOSSIERS = LetterDossier.__table__


def _values(facts: DossierFactsIn, now: datetime) -> dict[str, Any]:
    """The row the event carried; an event without applicant data leaves those columns out."""
    values = {
        "ma_ho_so": facts.ma_ho_so,
        "unit_code": facts.unit,
        "procedure_code": facts.procedure.code,
        "procedure_name": facts.procedure.name,
        "channel": facts.channel or 1,  # an empty channel counts as in person (DOMAIN.md §2)
        "received_at": facts.received_at,
        "due_at": facts.due_at,
        "rule_set": facts.rule_set,
        "updated_at": now,
        "resolved": False,  # inserted, never overwritten
    }
    if facts.applicant is not None:
        values.update(
            applicant_name=facts.applicant.name,
            applicant_address=facts.applicant.address,
            applicant_phone=facts.applicant.phone,
            applicant_email=facts.applicant.email,
        )
    return values


def _upsert(session: AsyncSession, shape: dict[str, Any]) -> Any:
    """The statement keeping what the events carried (an upsert: replicas may record the same
    dossier at once), for rows of ``shape``'s columns and due-date presence; an event without
    applicant data or due date keeps the ones known."""
    statement = upsert(session, DOSSIERS)
    kept = {"ma_ho_so", "resolved"} | ({"due_at"} if shape["due_at"] is None else set())  # resolved: a new row's only
    return statement.on_conflict_do_update(
        index_elements=["ma_ho_so"], set_={k: statement.excluded[k] for k in shape if k not in kept}
    )


async def record(session: AsyncSession, facts: DossierFactsIn, now: datetime) -> None:
    values = _values(facts, now)
    await session.execute(_upsert(session, values).values(values))


async def recorded(session: AsyncSession, facts: DossierFactsIn, now: datetime) -> LetterDossier:
    """:func:`record`, answering the dossier as it now stands (in the same statement)."""
    values = _values(facts, now)
    statement = select(LetterDossier).from_statement(_upsert(session, values).values(values).returning(*DOSSIERS.c))
    return (await session.scalars(statement, execution_options={"populate_existing": True})).one()


async def recorded_many(
    session: AsyncSession, facts: Sequence[DossierFactsIn], now: datetime
) -> dict[str, LetterDossier]:
    """:func:`recorded` for distinct dossiers: one upsert per shape of event (with or without
    applicant data) executed for all its rows, in key order so concurrent recorders lock them in
    one order, then one read of them all."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in sorted((_values(f, now) for f in facts), key=lambda v: v["ma_ho_so"]):
        shapes.setdefault((*values, str(values["due_at"] is None)), []).append(values)
    for rows in shapes.values():
        await session.execute(_upsert(session, rows[0]), rows)
    query = select(LetterDossier).where(LetterDossier.ma_ho_so.in_([f.ma_ho_so for f in facts]))
    return {d.ma_ho_so: d for d in await session.scalars(query, execution_options={"populate_existing": True})}


async def get(session: AsyncSession, ma_ho_so: str, scope: Scope = WHOLE_SYSTEM) -> LetterDossier:
    """The dossier as the database has it (fresh, even after an upsert in this transaction), if its
    unit lies in ``scope``."""
    query = (
        select(LetterDossier)
        .where(LetterDossier.ma_ho_so == ma_ho_so, scope.where(LetterDossier.unit_code))
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"No dossier {ma_ho_so!r} is known to the notifications service (it learns dossiers from the dossiers service's events).",
            errors=[{"field": "dossier", "message": "unknown dossier"}],
        )
    return row
