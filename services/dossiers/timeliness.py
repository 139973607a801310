"""On time, late, early (QĐ 766, docs/domain.md §4) and when the next late-detection alarm rings."""

from __future__ import annotations

from datetime import datetime

from services.dossiers.codes import Timeliness
from shared.calendar import WorkingCalendar
from shared.on_time import finish_verdict

DUE_SOON = "due_soon"
OVERDUE = "overdue"
OVERDUE_AFTER_APOLOGY = "overdue_after_apology"


def judge(finished_at: datetime, due_at: datetime | None, supplement_count: int) -> Timeliness:
    """A finished dossier's timeliness: the verdict of the QĐ 766 on-time rule (``shared.on_time``)."""
    return Timeliness(finish_verdict(finished_at, due_at, supplement_count).value)


def open_timeliness(now: datetime, due_at: datetime | None, calendar: WorkingCalendar) -> Timeliness:
    if due_at is None:
        return Timeliness.open_on_track
    if now >= due_at:
        return Timeliness.open_overdue
    if now >= calendar.one_working_day_before(due_at):
        return Timeliness.open_due_soon
    return Timeliness.open_on_track


def apology_deadline(due_at: datetime | None, *, apologised: bool, calendar: WorkingCalendar) -> datetime | None:
    """When the apology for a dossier that may miss ``due_at`` is due: one working day before it
    (NĐ 61/2018 Art. 19; docs/domain.md), or None when no apology can be owed (no due time, or the
    once-only letter already issued). A past deadline is owed at once."""
    if due_at is None or apologised:
        return None
    return calendar.one_working_day_before(due_at)


def next_alarm(
    now: datetime, due_at: datetime | None, *, apologised: bool, calendar: WorkingCalendar
) -> tuple[datetime | None, str | None]:
    """The next alarm of an open dossier that is not waiting for the applicant.

    Before the apology deadline: ``due_soon`` then; past it but before due: ``due_soon`` at once;
    past due: ``overdue`` at once (never a ``due_soon`` for a dossier that arrives late). After an
    apology, only ``overdue_after_apology`` at the new due time. Firing is made exactly-once by the
    alarms table, so planning may propose an alarm that already rang.
    """
    if due_at is None:
        return None, None
    if apologised:
        return due_at, OVERDUE_AFTER_APOLOGY
    if now >= due_at:
        return due_at, OVERDUE
    return apology_deadline(due_at, apologised=False, calendar=calendar), DUE_SOON
