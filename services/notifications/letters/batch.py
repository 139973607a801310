"""A consumer batch's ``dossier.due_soon`` and ``dossier.overdue`` events, handled as sets in a
few statements per batch rather than about nine per event (docs/performance.md, "Letters").

``due_soon``: the apology is due now, a draft if the unit's policy says so (an officer approves
it). ``overdue``: the dossier is late, its letter at once, issued when the unit's policy says so;
a dossier that already had its apology gets no second one: it escalates.

The handlers gather the facts in ``uow.gathered``; :func:`flush` writes them just before the
batch commits, or before any other dossier event of the batch is handled, so every event still
sees the ones before it. A run of gathered facts is cut into chunks of distinct dossiers (a
dossier twice in a batch: its second event after its first). Per chunk: the dossier replicas in
one upsert, their issued letters in one query, the units' settings in one, the drafts in one
multi-row ``INSERT … ON CONFLICT DO NOTHING``, the letters read back locked in one, each unit's
counter bumped once by the letters it issues, one flush of the updates, then ``letter.issued``
and the delivery requests per letter. Rows are written in key order, so concurrent replicas
lock them in one order.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notifications.letters import dossiers, service
from services.notifications.letters.calendar import working_calendar
from services.notifications.letters.lifecycle import ISSUED, Status
from services.notifications.letters.models import Letter, LetterDossier
from services.notifications.letters.numbering import take_numbers
from services.notifications.letters.policy import UnitPolicy, unit_policies
from services.notifications.letters.schemas import LatenessIn
from shared.clock import VN_TZ
from shared.db import upsert
from shared.problems import Conflict
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
GATHERED = "letters.lateness"
CHUNK = 500  # dossiers per chunk: bounds the IN lists and each executemany


@dataclass(frozen=True)
class Lateness:
    facts: LatenessIn
    overdue: bool  # False: due_soon (a draft if the policy says so, never issued nor escalated)


def gather(uow: UnitOfWork, facts: LatenessIn, *, overdue: bool) -> None:
    """Handle the event with the batch's others, just before the batch commits."""
    pending: list[Lateness] | None = uow.gathered.get(GATHERED)
    if pending is None:
        pending = uow.gathered[GATHERED] = []
        uow.before_commit(lambda: flush(uow))
    pending.append(Lateness(facts, overdue))


async def flush(uow: UnitOfWork) -> None:
    """Handle the facts gathered so far (none: nothing to do)."""
    pending: list[Lateness] = uow.gathered.get(GATHERED) or []
    while pending:
        chunk: dict[str, Lateness] = {}
        while pending and pending[0].facts.ma_ho_so not in chunk and len(chunk) < CHUNK:
            item = pending.pop(0)
            chunk[item.facts.ma_ho_so] = item
        await _handle(uow, list(chunk.values()))


async def _handle(uow: UnitOfWork, chunk: list[Lateness]) -> None:
    session, now = uow.session, uow.clock.now()
    known = await dossiers.recorded_many(session, [item.facts for item in chunk], now)
    keys = sorted(known)
    issued_query = select(Letter.ma_ho_so, Letter.missed_due_at).where(
        Letter.ma_ho_so.in_(keys), Letter.status.in_([s.value for s in ISSUED])
    )
    apologised = {key: missed for key, missed in await session.execute(issued_query)}
    policies = await unit_policies(session, (d.unit_code for d in known.values()))
    wanted: list[tuple[Lateness, LetterDossier, UnitPolicy]] = []
    for item in chunk:
        dossier = known[item.facts.ma_ho_so]
        if dossier.ma_ho_so in apologised:
            # late again after the apology escalates; the date the letter apologised for, told
            # again (a redelivery, a resend, a replica), is not news
            if item.overdue and item.facts.due_at != apologised[dossier.ma_ho_so]:
                await service.escalate(uow, dossier, item.facts.due_at)
        elif item.overdue or policies[dossier.unit_code].draft_on_due_soon:
            wanted.append((item, dossier, policies[dossier.unit_code]))
    if wanted:
        await _create_and_issue(uow, wanted)


async def _create_and_issue(uow: UnitOfWork, wanted: list[tuple[Lateness, LetterDossier, UnitPolicy]]) -> None:
    session = uow.session
    rows = []
    for item, dossier, policy in wanted:
        calendar = await working_calendar(session, dossier.unit_code)
        rows.append(
            service.draft_values(
                uow, dossier, policy, item.facts.due_at, calendar, origin="overdue" if item.overdue else "due_soon"
            )
        )
    rows.sort(key=lambda r: r["ma_ho_so"])
    statement = upsert(session, service.LETTERS).on_conflict_do_nothing(index_elements=["ma_ho_so", "missed_due_at"])
    created = set(await session.scalars(statement.returning(service.LETTERS.c.id), rows))
    query = (
        select(Letter)
        .where(Letter.ma_ho_so.in_([r["ma_ho_so"] for r in rows]))
        .order_by(Letter.ma_ho_so, Letter.missed_due_at)
        .with_for_update()  # concurrent issuers of one letter queue
        .execution_options(populate_existing=True)
    )
    letters = {(letter.ma_ho_so, letter.missed_due_at): letter for letter in await session.scalars(query)}
    to_issue: list[tuple[Letter, LetterDossier, UnitPolicy]] = []
    for item, dossier, policy in wanted:
        letter = letters[(dossier.ma_ho_so, item.facts.due_at)]  # aware instants: equal across zones
        if letter.id in created:
            service.record_created(uow, letter)
        if item.overdue and policy.auto_issue and letter.status in (Status.draft, Status.approved):
            to_issue.append((letter, dossier, policy))
    if to_issue:
        await _issue(uow, to_issue)


async def _issue(uow: UnitOfWork, to_issue: list[tuple[Letter, LetterDossier, UnitPolicy]]) -> None:
    """:func:`service.issue` of several letters of distinct dossiers none of which was issued:
    each unit's numbers taken at once, in the batch's order, without gaps."""
    session, now = uow.session, uow.clock.now()
    year = now.astimezone(VN_TZ).year
    first = await take_numbers(session, year, Counter(letter.unit_code for letter, _, _ in to_issue))
    for letter, dossier, policy in to_issue:
        if letter.status == Status.draft:
            await service.approve(uow, letter, by=service.AUTO)
        service.renew_due_date(uow, letter, dossier, policy, await working_calendar(session, letter.unit_code))
        seq, first[letter.unit_code] = first[letter.unit_code], first[letter.unit_code] + 1
        service.number_and_freeze(uow, letter, dossier, policy, year=year, seq=seq)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent issue of another letter of a dossier won (the batch is retried one by one)
        raise Conflict("A dossier of the batch already had its apology: its date moves only once.") from None
    for letter, dossier, policy in to_issue:
        await service.announce(uow, letter, dossier, policy, by=service.AUTO)
