"""Late detection: ``due_soon`` at the apology deadline, ``overdue`` at the due instant, once each.

The scheduler (:class:`shared.deadline_scheduler.DeadlineScheduler`) sleeps until the earliest
``alarm_at``; a sweep reads only the rows whose alarm rang (a partial index), so its cost follows
the dossiers falling due, not the open ones. ``dossier_alarms`` makes each (dossier, kind, due
instant) fire once even when several replicas sweep the same instant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from services.dossiers import auditing, lifecycle, store
from services.dossiers import rows as r
from services.dossiers import timeliness as t
from services.dossiers.models import DossierAlarm
from services.dossiers.office_hours import load_calendars
from services.dossiers.schemas import LetterIssuedIn
from shared.calendar import WorkingCalendar
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
    rows = [dict(m) for m in (await session.execute(query)).mappings()]
    if not rows:
        return 0
    calendars = await load_calendars(session)
    claims = [
        {"ma_ho_so": row["ma_ho_so"], "kind": row["alarm_kind"], "due_at": row["due_at"], "fired_at": now}
        for row in rows
    ]
    claim = upsert(session, ALARMS).on_conflict_do_nothing().returning(ALARMS.c.ma_ho_so, ALARMS.c.kind)
    fired = set((await session.execute(claim, claims)).all())
    for row in rows:
        kind, calendar = row["alarm_kind"], calendars.of(row["unit_code"])
        if (row["ma_ho_so"], kind) in fired:
            uow.emit(r.alarm_event(row, kind, row["due_at"], calendar))
        _after(row, kind, now, calendar)
    await store.update_rows(session, rows)
    return len(rows)


def _after(row: r.Row, kind: str, now: datetime, calendar: WorkingCalendar) -> None:
    """The alarm that rang is done: the next one is the overdue at the due instant, or none."""
    if kind == t.DUE_SOON:
        row["alarm_at"], row["alarm_kind"] = row["due_at"], t.OVERDUE  # already past: the next batch fires it
    else:
        row["alarm_at"], row["alarm_kind"] = None, None
    row["timeliness"] = t.open_timeliness(now, row["due_at"], calendar).value


async def record_apology_letter(uow: UnitOfWork, issued: LetterIssuedIn) -> None:
    """notifications issued an apology with a new date: record it once (the once-only rule)."""
    row = (await store.load_rows(uow.session, [issued.ma_ho_so])).get(issued.ma_ho_so)
    if row is None:
        return  # a letter for a dossier this service never saw: nothing to re-date
    calendar = (await load_calendars(uow.session)).of(row["unit_code"])
    letter = {"letter_id": issued.letter_id, "number": issued.number, "issued_at": issued.issued_at.isoformat()}
    events = lifecycle.record_apology(row, letter, issued.new_due_at, uow.clock.now(), calendar)
    if events:
        for e in events:
            uow.emit(e)
        await store.update_rows(uow.session, [row])
        auditing.audit_due_changes(uow, events)
