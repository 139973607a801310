"""Apology letters: created on the dossier events or by an officer, approved, issued (numbered,
``letter.issued``), delivered or failed; escalation instead of a second letter. No HTTP, no commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.events import LetterEscalated, LetterIssued
from services.notifications.letters import dossiers
from services.notifications.letters.calendar import working_calendar
from services.notifications.letters.content import build_content, letter_number, masked_content
from services.notifications.letters.lifecycle import ISSUED, Status, check_transition
from services.notifications.letters.models import Letter, LetterDossier
from services.notifications.letters.numbering import next_number
from services.notifications.letters.policy import UnitPolicy, unit_policy
from services.notifications.letters.regimes import TemplateRef, regime, regime_at
from services.notifications.letters.rendering import render_pdf_async, short_text
from services.notifications.letters.schemas import LatenessIn
from services.notifications.letters.sending import PAPER_CHANNELS, send
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ
from shared.db import upsert
from shared.events import new_event_id
from shared.problems import Conflict, DomainError, NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
LETTERS = Letter.__table__
AUTO = "policy"  # who approved and issued a letter the unit's policy issued


class InvalidLetter(DomainError):
    status = 422
    code = "invalid_request"


# --- the dossier events -----------------------------------------------------------------------


async def on_overdue_after_apology(uow: UnitOfWork, facts: LatenessIn) -> None:
    """The promised date passed too: never a second letter (once-only rule), an escalation."""
    dossier = await dossiers.recorded(uow.session, facts, uow.clock.now())
    await escalate(uow, dossier, facts.due_at, letter_id=facts.apology_letter_id)


async def on_rescheduled(uow: UnitOfWork, ma_ho_so: str, new_due_at: datetime | None) -> None:
    dossier = await uow.session.get(LetterDossier, ma_ho_so)
    if dossier is not None and new_due_at is not None:
        dossier.due_at = new_due_at
        dossier.updated_at = uow.clock.now()


async def on_resolved(uow: UnitOfWork, ma_ho_so: str) -> None:
    dossier = await uow.session.get(LetterDossier, ma_ho_so)
    if dossier is not None:
        dossier.resolved = True
        dossier.updated_at = uow.clock.now()


# --- letters ----------------------------------------------------------------------------------


async def ensure_letter(
    uow: UnitOfWork,
    dossier: LetterDossier,
    policy: UnitPolicy,
    missed_due_at: datetime,
    *,
    origin: str,
    reason: str | None = None,
    new_due_at: datetime | None = None,
) -> tuple[Letter, bool]:
    """The letter of ``(dossier, missed_due_at)``: created as a draft, or the one that exists
    (the unique key decides between concurrent creators). Returns it and whether it is new."""
    calendar = await working_calendar(uow.session, dossier.unit_code)
    values = draft_values(
        uow, dossier, policy, missed_due_at, calendar, origin=origin, reason=reason, new_due_at=new_due_at
    )
    statement = (
        upsert(uow.session, LETTERS).values(values).on_conflict_do_nothing(index_elements=["ma_ho_so", "missed_due_at"])
    )
    created = (await uow.session.execute(statement.returning(LETTERS.c.id))).scalar_one_or_none() is not None
    query = select(Letter).where(Letter.ma_ho_so == dossier.ma_ho_so, Letter.missed_due_at == missed_due_at)
    letter = await uow.session.scalar(query.with_for_update())  # concurrent issuers of one letter queue
    assert letter is not None
    if created:
        record_created(uow, letter)
    return letter, created


def record_created(uow: UnitOfWork, letter: Letter) -> None:
    """Log and audit (``letter.created``) a letter just written."""
    log.info("letter %s created (%s) for a dossier of unit %s", letter.id, letter.origin, letter.unit_code)
    facts = {"dossier": letter.ma_ho_so, "origin": letter.origin, "new_due_at": letter.new_due_at}
    uow.audit("letter.created", "letter", letter.id, {**facts, "missed_due_at": letter.missed_due_at})


def draft_values(
    uow: UnitOfWork,
    dossier: LetterDossier,
    policy: UnitPolicy,
    missed_due_at: datetime,
    calendar: WorkingCalendar,
    *,
    origin: str,
    reason: str | None = None,
    new_due_at: datetime | None = None,
) -> dict[str, Any]:
    """The row of a new draft letter of ``(dossier, missed_due_at)``."""
    now = uow.clock.now()
    form = regime_at(dossier.received_at, dossier.rule_set)
    new_due = new_due_at or policy.new_due_at(dossier.procedure_code, missed_due_at, now, calendar)
    reason = reason or policy.default_reason
    content = build_content(
        dossier, policy, missed_due_at=missed_due_at, new_due_at=new_due, reason=reason, dated=now, number=None
    )
    return {
        "id": new_event_id(),
        "ma_ho_so": dossier.ma_ho_so,
        "missed_due_at": missed_due_at,
        "unit_code": dossier.unit_code,
        "channel": dossier.channel,
        "status": Status.draft.value,
        "regime": form.code,
        "template_id": form.template.id,
        "template_version": form.template.version,
        "reason": reason,
        "new_due_at": new_due,
        "content": content,
        "origin": origin,
        "created_at": now,
    }


async def create_by_officer(
    uow: UnitOfWork, ma_ho_so: str, reason: str | None, new_due_at: datetime | None, scope: Scope = WHOLE_SYSTEM
) -> tuple[Letter, bool]:
    """An officer's letter, early or not, for the dossier's current due date (of a unit in ``scope``)."""
    dossier = await dossiers.get(uow.session, ma_ho_so, scope)
    if dossier.resolved:
        raise Conflict(
            "The dossier is resolved: it needs no apology.",
            errors=[{"field": "dossier", "message": "dossier resolved"}],
        )
    if dossier.due_at is None:
        raise Conflict(
            "The dossier has no due date to apologise for.", errors=[{"field": "dossier", "message": "no due date"}]
        )
    issued = await _issued_letter(uow.session, ma_ho_so)
    if issued is not None:
        raise Conflict(
            f"The dossier already had its apology ({issued.number}): its date moves only once.",
            errors=[{"field": "dossier", "message": "already apologised"}],
            letter_id=issued.id,
        )
    if new_due_at is not None and new_due_at <= dossier.due_at:
        raise InvalidLetter(
            "The new return date must be after the due date it replaces.",
            errors=[{"field": "new_due_at", "message": "not after the due date"}],
        )
    policy = await unit_policy(uow.session, dossier.unit_code)
    return await ensure_letter(
        uow, dossier, policy, dossier.due_at, origin="officer", reason=reason, new_due_at=new_due_at
    )


async def approve(uow: UnitOfWork, letter: Letter, *, by: str) -> None:
    check_transition(letter.status, Status.approved)
    uow.audit("letter.approved", "letter", letter.id, {"status": [letter.status, Status.approved.value]})
    letter.status = Status.approved.value
    letter.approved_at = uow.clock.now()
    letter.approved_by = by


async def issue(
    uow: UnitOfWork, letter: Letter, *, by: str, dossier: LetterDossier | None = None, policy: UnitPolicy | None = None
) -> None:
    """Number the letter, freeze what it says, and announce the new date (``letter.issued``);
    ``dossier`` and ``policy`` when the caller has just read them."""
    check_transition(letter.status, Status.issued)
    issued = await _issued_letter(uow.session, letter.ma_ho_so)
    if issued is not None:
        raise Conflict(
            f"The dossier already had its apology ({issued.number}): its date moves only once.", letter_id=issued.id
        )
    dossier = dossier or await dossiers.get(uow.session, letter.ma_ho_so)
    policy = policy or await unit_policy(uow.session, letter.unit_code)
    renew_due_date(uow, letter, dossier, policy, await working_calendar(uow.session, letter.unit_code))
    now = uow.clock.now()
    year = now.astimezone(VN_TZ).year
    number_and_freeze(
        uow, letter, dossier, policy, year=year, seq=await next_number(uow.session, letter.unit_code, year)
    )
    try:
        await uow.session.flush()
    except IntegrityError:  # a concurrent issue of another letter of the dossier won (the transaction is lost)
        raise Conflict("The dossier already had its apology: its date moves only once.") from None
    await announce(uow, letter, dossier, policy, by=by)


def renew_due_date(
    uow: UnitOfWork, letter: Letter, dossier: LetterDossier, policy: UnitPolicy, calendar: WorkingCalendar
) -> None:
    """A draft kept too long: its proposed date has passed, a new one from now."""
    now = uow.clock.now()
    if letter.new_due_at <= now:
        letter.new_due_at = policy.new_due_at(dossier.procedure_code, letter.missed_due_at, now, calendar)


def number_and_freeze(
    uow: UnitOfWork, letter: Letter, dossier: LetterDossier, policy: UnitPolicy, *, year: int, seq: int
) -> None:
    """Give the letter its number and freeze what it says: issued (not yet flushed nor announced)."""
    now = uow.clock.now()
    letter.number, letter.number_year, letter.number_seq = letter_number(seq, policy.number_suffix), year, seq
    letter.content = build_content(
        dossier,
        policy,
        missed_due_at=letter.missed_due_at,
        new_due_at=letter.new_due_at,
        reason=letter.reason,
        dated=now,
        number=letter.number,
    )
    letter.status, letter.issued_at = Status.issued.value, now


async def announce(uow: UnitOfWork, letter: Letter, dossier: LetterDossier, policy: UnitPolicy, *, by: str) -> None:
    """``letter.issued`` for a letter just issued (and flushed), and its messages queued."""
    assert letter.number is not None and letter.issued_at is not None
    facts = {"status": Status.issued.value, "number": letter.number, "new_due_at": letter.new_due_at}
    uow.audit("letter.issued", "letter", letter.id, facts)
    uow.emit(
        LetterIssued(
            ma_ho_so=letter.ma_ho_so,
            letter_id=letter.id,
            number=letter.number,
            issued_at=letter.issued_at,
            new_due_at=letter.new_due_at,
            unit=letter.unit_code,
            regime=letter.regime,
            missed_due_at=letter.missed_due_at,
        )
    )
    await send(uow, letter, dossier, policy)
    log.info("letter %s issued as %s (by %s)", letter.id, letter.number, by)


async def escalate(
    uow: UnitOfWork, dossier: LetterDossier, missed_due_at: datetime, *, letter_id: str | None = None
) -> None:
    """Announce, once per letter, that a dossier is late after its apology."""
    letter = await _issued_letter(uow.session, dossier.ma_ho_so)
    if letter is not None and letter.escalated_at is not None:
        return
    now = uow.clock.now()
    if letter is not None:
        letter.escalated_at = now
    uow.emit(
        LetterEscalated(
            ma_ho_so=dossier.ma_ho_so,
            unit=dossier.unit_code,
            letter_id=letter.id if letter else letter_id,
            number=letter.number if letter else None,
            promised_due_at=letter.new_due_at if letter else None,
            missed_due_at=missed_due_at,
            escalated_at=now,
        )
    )
    log.info("dossier of unit %s escalated: late after its apology", dossier.unit_code)


# --- queries ----------------------------------------------------------------------------------


async def get_letter(
    session: AsyncSession, letter_id: str, *, for_update: bool = False, scope: Scope = WHOLE_SYSTEM
) -> Letter:
    """The letter of a unit in ``scope``, locked against concurrent transitions when ``for_update``
    (PostgreSQL); one of another unit is absent."""
    query = select(Letter).where(Letter.id == letter_id, scope.where(Letter.unit_code))
    letter = await session.scalar(query.with_for_update() if for_update else query)
    if letter is None:
        raise NotFound(f"No letter {letter_id!r}.")
    return letter


async def letters_of(session: AsyncSession, ma_ho_so: str, scope: Scope = WHOLE_SYSTEM) -> Sequence[Letter]:
    query = (
        select(Letter)
        .where(Letter.ma_ho_so == ma_ho_so, scope.where(Letter.unit_code))
        .order_by(Letter.created_at, Letter.id)
    )
    return (await session.scalars(query)).all()


async def print_queue(
    session: AsyncSession, unit_code: str | None = None, scope: Scope = WHOLE_SYSTEM
) -> Sequence[Letter]:
    """Letters of the units in ``scope`` to print and hand over, oldest first: issued paper letters
    (in-person and postal dossiers), and letters whose every electronic message failed."""
    paper = (Letter.status == Status.issued.value) & Letter.channel.in_(PAPER_CHANNELS)
    query = select(Letter).where(paper | (Letter.status == Status.failed.value), scope.where(Letter.unit_code))
    if unit_code is not None:
        query = query.where(Letter.unit_code == unit_code)
    return (await session.scalars(query.order_by(Letter.issued_at, Letter.id))).all()


def _content(letter: Letter, scope: Scope) -> dict[str, Any]:
    return letter.content if scope.personal_data else masked_content(letter.content)


async def pdf_of(letter: Letter, scope: Scope = WHOLE_SYSTEM) -> bytes:
    """The letter as PDF, from what it froze: an issued letter renders as it was issued (for a
    viewer, without the applicant's personal data)."""
    return await render_pdf_async(
        _content(letter, scope),
        TemplateRef(letter.template_id, letter.template_version),
        letter.issued_at or letter.created_at,
    )


def short_text_of(letter: Letter, channel: str, scope: Scope = WHOLE_SYSTEM) -> str:
    return short_text(_content(letter, scope), regime(letter.regime), channel, letter.number or "")


async def _issued_letter(session: AsyncSession, ma_ho_so: str) -> Letter | None:
    """The dossier's letter that was issued (there is at most one: the once-only rule)."""
    query = select(Letter).where(Letter.ma_ho_so == ma_ho_so, Letter.status.in_([s.value for s in ISSUED]))
    return await session.scalar(query.order_by(Letter.issued_at).limit(1))
