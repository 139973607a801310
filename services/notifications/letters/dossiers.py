"""The letters' copy of each dossier, fed by the dossiers service's events (event-carried state)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.letters.models import LetterDossier
from services.notifications.letters.schemas import DossierFactsIn
from shared.db import upsert
from shared.problems import NotFound

DOSSIERS = LetterDossier.__table__


def _upsert(session: AsyncSession, facts: DossierFactsIn, now: datetime) -> Any:
    """The statement keeping what the event carried (one upsert: replicas may record the same
    dossier at once); an event without applicant data or due date keeps the ones known."""
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
    }
    if facts.applicant is not None:
        values.update(
            applicant_name=facts.applicant.name,
            applicant_address=facts.applicant.address,
            applicant_phone=facts.applicant.phone,
            applicant_email=facts.applicant.email,
        )
    statement = upsert(session, DOSSIERS).values(**values, resolved=False)
    kept = {"ma_ho_so"} | ({"due_at"} if facts.due_at is None else set())
    return statement.on_conflict_do_update(
        index_elements=["ma_ho_so"], set_={k: statement.excluded[k] for k in values if k not in kept}
    )


async def record(session: AsyncSession, facts: DossierFactsIn, now: datetime) -> None:
    await session.execute(_upsert(session, facts, now))


async def recorded(session: AsyncSession, facts: DossierFactsIn, now: datetime) -> LetterDossier:
    """:func:`record`, answering the dossier as it now stands (in the same statement)."""
    statement = select(LetterDossier).from_statement(_upsert(session, facts, now).returning(*DOSSIERS.c))
    return (await session.scalars(statement, execution_options={"populate_existing": True})).one()


async def get(session: AsyncSession, ma_ho_so: str) -> LetterDossier:
    """The dossier as the database has it (fresh, even after an upsert in this transaction)."""
    query = select(LetterDossier).where(LetterDossier.ma_ho_so == ma_ho_so).execution_options(populate_existing=True)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"No dossier {ma_ho_so!r} is known to the notifications service (it learns dossiers from the dossiers service's events).",
            errors=[{"field": "dossier", "message": "unknown dossier"}],
        )
    return row
