"""Late detection: ``due_soon`` at the apology deadline, ``overdue`` at the due instant, once each.

The scheduler (:class:`shared.deadline_scheduler.DeadlineScheduler`) sleeps until the earliest
``alarm_at``; a sweep reads only the rows whose alarm rang (a partial index), so its cost follows
the dossiers falling due, not the open ones. ``dossier_alarms`` makes each (dossier, kind, due
instant) fire once even when several replicas sweep the same instant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from services.dossiers import auditing, store
from services.dossiers.dossier import Dossier
from services.dossiers.models import DossierAlarm
from services.dossiers.office_hours import load_calendars
from services.dossiers.schemas import LetterIssuedIn
from shared.db import on_postgres, upsert
from shared.uow import UnitOfWork

ALARMS = DossierAlarm.__table__
SWEEP_BATCH = 1000


async def next_alarm_at(uow: UnitOfWork) -> datetime | None:
    return (await uow.session.execute(select(func.min(store.DOSSIERS.c.alarm_at)))).scalar_one()


async def sweep_batch(uow: UnitOfWork, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Fire the alarms due at ``now`` (one batch, in the caller's transaction); returns rows handled."""
    session = uow.session
    D = store.DOSSIERS
    query = select(D).where(D.c.alarm_at <= now).order_by(D.c.alarm_at).limit(limit)
    if on_postgres(session):
        query = query.with_for_update(skip_locked=True)
    dossiers = [Dossier.from_row(m) for m in (await session.execute(query)).mappings()]
    if not dossiers:
        return 0
    calendars = await load_calendars(session)
    claims = [{"ma_ho_so": d.ma_ho_so, "kind": d.alarm_kind, "due_at": d.due_at, "fired_at": now} for d in dossiers]
    claim = upsert(session, ALARMS).on_conflict_do_nothing().returning(ALARMS.c.ma_ho_so, ALARMS.c.kind)
    fired = set((await session.execute(claim, claims)).all())
    for dossier in dossiers:
        kind = dossier.alarm_kind or ""
        dossier.ring(kind, now, calendars.of(dossier.unit_code), first=(dossier.ma_ho_so, kind) in fired)
        for event in dossier.collect_events():
            uow.emit(event)
    await store.save(session, dossiers)
    return len(dossiers)


async def record_apology_letter(uow: UnitOfWork, issued: LetterIssuedIn) -> None:
    """notifications issued an apology with a new date: record it once (the once-only rule)."""
    dossier = (await store.load(uow.session, [issued.ma_ho_so])).get(issued.ma_ho_so)
    if dossier is None:
        return  # a letter for a dossier this service never saw: nothing to re-date
    calendar = (await load_calendars(uow.session)).of(dossier.unit_code)
    letter = {"letter_id": issued.letter_id, "number": issued.number, "issued_at": issued.issued_at.isoformat()}
    if dossier.record_apology(letter, issued.new_due_at, uow.clock.now(), calendar):
        events = dossier.collect_events()
        for event in events:
            uow.emit(event)
        await store.save(uow.session, [dossier])
        auditing.audit_due_changes(uow, events)
