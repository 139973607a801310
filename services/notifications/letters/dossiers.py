"""The letters' copy of each dossier, fed by the dossiers service's events (event-carried state)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.letters.models import LetterDossier
from services.notifications.letters.schemas import DossierFactsIn
from shared.problems import NotFound


async def record(session: AsyncSession, facts: DossierFactsIn, now: datetime) -> LetterDossier:
    """Keep what the event carried; an event without applicant data keeps the applicant known."""
    row = await session.get(LetterDossier, facts.ma_ho_so)
    if row is None:
        row = LetterDossier(ma_ho_so=facts.ma_ho_so, resolved=False)
        session.add(row)
    row.unit_code = facts.unit
    row.procedure_code = facts.procedure.code
    row.procedure_name = facts.procedure.name
    row.channel = facts.channel or 1  # an empty channel counts as in person (DOMAIN.md §2)
    row.received_at = facts.received_at
    row.due_at = facts.due_at if facts.due_at is not None else row.due_at
    row.rule_set = facts.rule_set
    if facts.applicant is not None:
        row.applicant_name = facts.applicant.name
        row.applicant_address = facts.applicant.address
        row.applicant_phone = facts.applicant.phone
        row.applicant_email = facts.applicant.email
    row.updated_at = now
    return row


async def get(session: AsyncSession, ma_ho_so: str) -> LetterDossier:
    row = await session.get(LetterDossier, ma_ho_so)
    if row is None:
        raise NotFound(
            f"No dossier {ma_ho_so!r} is known to the notifications service (it learns dossiers from the dossiers service's events).",
            errors=[{"field": "dossier", "message": "unknown dossier"}],
        )
    return row
