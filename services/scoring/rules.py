"""The QĐ 766 judgement of one dossier in a period, and what one dossier contributes to the monthly counters.

A dossier is *judged* in a period when it was received in it, finished in it, or still being
processed in it (received before the period's end and not finished before its start). A dossier
finished in the period is judged by its end of processing (the dossiers service's ``finished_at``:
status 9, else 10, else 8/3/7) against its due time (moved by supplement waits, not by an apology):
late after more than one supplement request or when finished after the due time, early when finished
on a day before the due day, otherwise on time. A dossier still open at the period's end is judged at
that end: late once its *late instant* lies before the end, on time otherwise.

The late instant of an open dossier is its due time once a ``dossier.overdue`` event said that due
time passed ("now" enters only through that event), or its receipt after a second supplement
request. Because every period is a run of whole months, "late before the end" and "received before
the end" are month comparisons, so a dossier contributes a handful of (month, counter) points and
every period's figures are sums over months (see :mod:`services.scoring.figures`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from services.scoring.periods import Period, month_index
from shared.on_time import Verdict, finish_verdict

ONLINE_CHANNEL = 2
SUPPLEMENT_STATUS = 5
LEAD_ROLE = "lead"

DOSSIER_COUNTERS = (
    "received",  # by month received
    "finished",  # by month finished (this and the fin_* ones)
    "fin_early",
    "fin_late",
    "fin_fees",
    "fin_paid_online",
    "fin_digitised",
    "fin_reused",
    "late_from",  # by month of the late instant
    "apology_fin_late",
    "apology_late_from",
)
TASK_COUNTERS = ("task_known", "task_done", "task_done_on_time")  # by month due
PER_PROCEDURE = ("fin_fees", "fin_paid_online")  # also kept per procedure, for QĐ 766 online payment B
COUNTERS = DOSSIER_COUNTERS + TASK_COUNTERS

# (own unit, month index, procedure code, channel) → counter → amount
RowKey = tuple[str, int, str, int]
Contribution = Counter[tuple[RowKey, str]]


@dataclass
class DossierState:
    """What the scoring service knows of one dossier, from whichever of its events arrived."""

    ma_ho_so: str
    unit: str | None = None
    procedure: str = ""
    channel: int = 1
    received_at: datetime | None = None
    due_at: datetime | None = None
    finished_at: datetime | None = None
    supplements: int = 0
    overdue_due: datetime | None = None  # the latest due time a dossier.overdue event said had passed
    has_fees: bool = False
    paid_online: bool = False
    digitised: bool = False
    reused: bool = False
    apologised: bool = False


def _finished(state: DossierState) -> datetime | None:
    if state.finished_at is None or state.received_at is None:
        return state.finished_at
    return max(state.finished_at, state.received_at)


def late_instant(state: DossierState) -> datetime | None:
    """From when the dossier counts as late for a period it is open at the end of (None: never)."""
    finished = _finished(state)
    verdict = finish_verdict(finished, state.due_at, state.supplements) if finished is not None else None
    return _late_instant(state, finished, verdict)


def _late_instant(state: DossierState, finished: datetime | None, verdict: Verdict | None) -> datetime | None:
    """:func:`late_instant` given the dossier's end of processing and its verdict (None: open)."""
    if state.received_at is None:
        return None
    if state.supplements > 1:
        return state.received_at
    if finished is not None:
        if verdict is not Verdict.late:
            return None
        return max(state.due_at, state.received_at) if state.due_at else state.received_at
    if state.due_at is not None and state.overdue_due is not None and state.overdue_due >= state.due_at:
        return max(state.due_at, state.received_at)
    return None


def judge(state: DossierState, period: Period) -> Verdict | None:
    """The dossier's verdict in ``period``, or None when it is not judged there."""
    received, finished = state.received_at, _finished(state)
    if received is None or received >= period.end:
        return None
    if finished is not None and finished < period.start:
        return None
    if finished is not None and finished < period.end:
        return finish_verdict(finished, state.due_at, state.supplements)
    late = late_instant(state)
    return Verdict.late if late is not None and late < period.end else Verdict.on_time


def points(state: DossierState) -> list[tuple[RowKey, str]]:
    """The dossier's (row, counter) points, each counting 1 (no point repeats)."""
    if state.received_at is None or state.unit is None:
        return []
    unit, procedure, channel = state.unit, state.procedure, state.channel
    found = [((unit, month_index(state.received_at), procedure, channel), "received")]
    finished = _finished(state)
    verdict = None
    if finished is not None:
        verdict = finish_verdict(finished, state.due_at, state.supplements)
        row = (unit, month_index(finished), procedure, channel)  # every fin_* counts in the month finished
        found.append((row, "finished"))
        if verdict is Verdict.early:
            found.append((row, "fin_early"))
        elif verdict is Verdict.late:
            found.append((row, "fin_late"))
            if state.apologised:
                found.append((row, "apology_fin_late"))
        if state.has_fees:
            found.append((row, "fin_fees"))
            if state.paid_online:
                found.append((row, "fin_paid_online"))
        if state.digitised:
            found.append((row, "fin_digitised"))
        if state.reused:
            found.append((row, "fin_reused"))
    late = _late_instant(state, finished, verdict)
    if late is not None:
        row = (unit, month_index(late), procedure, channel)
        found.append((row, "late_from"))
        if state.apologised:
            found.append((row, "apology_late_from"))
    return found


def contribution(state: DossierState) -> Contribution:
    """The dossier's (row, counter) points; the live model adds new minus old on every event."""
    return Counter(points(state))


@dataclass
class TaskState:
    """One occurrence of a plan obligation, as ``task.completed`` / ``task.overdue`` told it."""

    key: str  # "<obligation id>/<occurrence id or ->"
    unit: str
    role: str
    due: date | None = None
    completed_on: date | None = None
    on_time: bool | None = None
    overdue: bool = False


def task_contribution(task: TaskState) -> Contribution:
    """An occurrence led by its unit counts in the month it is due (or was done, without a due date)."""
    points: Contribution = Counter()
    day = task.due or task.completed_on
    if task.role != LEAD_ROLE or day is None or not (task.overdue or task.completed_on):
        return points
    row = (task.unit, day.year * 12 + day.month - 1, "", 0)
    points[(row, "task_known")] += 1
    if task.completed_on is not None:
        points[(row, "task_done")] += 1
        if task.on_time:
            points[(row, "task_done_on_time")] += 1
    return points


def delta(old: Contribution, new: Contribution) -> dict[RowKey, dict[str, int]]:
    """New minus old, grouped by row, without the counters that did not move."""
    change = Counter(new)
    change.subtract(old)
    return by_row(change)


def by_row(change: Contribution) -> dict[RowKey, dict[str, int]]:
    """Amounts grouped by counter row, without the zeros."""
    rows: dict[RowKey, dict[str, int]] = {}
    for (row, counter), amount in change.items():
        if amount:
            rows.setdefault(row, {})[counter] = amount
    return rows
