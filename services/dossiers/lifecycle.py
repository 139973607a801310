"""How a dossier row changes: created, merged with a newer copy, moved to a status, re-dated.

Pure functions over row dicts; each returns the events the change must publish.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.dossiers import rows as r
from services.dossiers.codes import Origin, Status
from services.dossiers.schemas import LegalTime
from shared.calendar import WorkingCalendar
from shared.events import DomainEvent

SUPPLEMENT, APOLOGY, PARTNER_UPDATE = "supplement", "apology", "partner_update"
OFFICE_HOURS, CALENDAR_DAY = "office_hours", "calendar_day"  # what made a re-dating necessary


def create(
    row: r.Row, now: datetime, calendar: WorkingCalendar, legal_time: LegalTime | None = None
) -> list[DomainEvent]:
    """A dossier seen for the first time: ``received``, and ``resolved`` if it arrives finished.
    ``legal_time`` (received here) is kept with the initial due time it was computed from."""
    original = row.get("original_due_at") or row["due_at"]
    initial: dict[str, Any] = {"due_at": r.iso(original), "at": r.iso(row["received_at"]), "reason": "initial"}
    if legal_time is not None:
        initial["legal_time"] = legal_time.model_dump(mode="json")
    history = [] if original is None else [initial]
    if row["due_at"] != original:
        history.append(
            {"due_at": r.iso(row["due_at"]), "previous_due_at": r.iso(original), "at": r.iso(now), "reason": SUPPLEMENT}
        )
    row.update(
        original_due_at=original,
        due_history=history,
        apology=None,
        version=1,
        created_at=now,
        updated_at=now,
    )
    r.settle(row, now, calendar)
    events: list[DomainEvent] = [r.received_event(row)]
    if Status(row["status"]).is_finished:
        events.append(r.resolved_event(row))
    return events


def is_stale(old: r.Row, state_at: datetime | None, rank: int, latest: datetime) -> bool:
    """An older copy than what is stored (by the latest instant it carries, then by progress). A
    stored instant later than ``latest`` (now plus the tolerance) is implausible: it never wins."""
    if old["state_at"] is not None and old["state_at"] > latest:
        return False
    if old["state_at"] is None or state_at is None:
        return state_at is None and old["state_at"] is not None
    return (state_at, rank) < (old["state_at"], old["state_rank"])


def merge_sync(old: r.Row, new: r.Row, now: datetime, calendar: WorkingCalendar) -> tuple[r.Row, list[DomainEvent]]:
    """A newer copy of a synced dossier over the stored one (the caller checked it is newer and different)."""
    row = {**old, **new}
    row["status_history"] = r.merge_history(old["status_history"], new["status_history"])
    row["original_due_at"] = old["original_due_at"] or new["original_due_at"]
    events: list[DomainEvent] = []
    if old["status"] != row["status"]:
        events.append(r.status_event(row, old["status"], row["state_at"]))
    partner_due = new["due_at"]
    if old.get("apology") and old["due_at"] is not None and (partner_due is None or partner_due < old["due_at"]):
        row["due_at"] = old["due_at"]  # the apology's new date stands until the partner sets a later one
    if row["due_at"] != old["due_at"]:
        promised = {p.get("due_after") for p in row["pauses"]}
        reason = SUPPLEMENT if r.iso(row["due_at"]) in promised else PARTNER_UPDATE
        events.append(_record_due_change(row, old["due_at"], reason, now))
    _finish(row, old, now, calendar, events)
    return row, events


def change_status(
    row: r.Row,
    to: Status,
    at: datetime,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    source: str,
    details: dict[str, Any],
    due_by_partner: datetime | None = None,
) -> list[DomainEvent]:
    """Move a dossier to ``to`` at ``at``: pauses open and close, the due time moves by the pause
    (or to ``due_by_partner`` when the provincial system dictates it), finishing judges timeliness."""
    old = dict(row)
    from_status = Status(row["status"])
    events: list[DomainEvent] = []
    row["status"] = int(to)
    row["status_history"] = [*row["status_history"], r.history_entry(int(to), at, source, **details)]
    row["pauses"] = [dict(p) for p in row["pauses"]]
    if to.is_paused and not from_status.is_paused:
        row["pauses"].append(
            {"requested_at": r.iso(at), "resumed_at": None, "working_seconds": None, "due_before": r.iso(row["due_at"])}
        )
        row["supplement_count"] += 1
    if from_status.is_paused and not to.is_paused and row["pauses"]:
        paused = r.close_pause(row["pauses"], at, calendar)
        if due_by_partner is None and row["due_at"] is not None and row["origin"] == Origin.intake:
            events.append(reschedule(row, calendar.add_working_time(row["due_at"], paused), SUPPLEMENT, now))
            row["pauses"][-1]["due_after"] = r.iso(row["due_at"])
    if due_by_partner is not None and due_by_partner != row["due_at"]:
        events.append(reschedule(row, due_by_partner, SUPPLEMENT if from_status.is_paused else PARTNER_UPDATE, now))
    if to.is_finished and row["finished_at"] is None:
        row["finished_at"] = at
    if to is Status.returned:
        row["returned_at"] = at
    if to is Status.not_received:
        row["refused_at"] = at
    row["state_at"] = max(at, row["state_at"]) if row["state_at"] else at
    row["state_rank"] = r.PROGRESS_RANK[to]
    if to is not from_status:
        events.insert(0, r.status_event(row, int(from_status), at))
    _finish(row, old, now, calendar, events)
    return events


def reschedule(row: r.Row, new_due: datetime, reason: str, now: datetime) -> DomainEvent:
    old_due = row["due_at"]
    row["due_at"] = new_due
    return _record_due_change(row, old_due, reason, now)


def record_apology(
    row: r.Row, letter: dict[str, Any], new_due: datetime, now: datetime, calendar: WorkingCalendar
) -> list[DomainEvent]:
    """The once-only new date of an apology letter; a second letter changes nothing."""
    if row.get("apology") or Status(row["status"]).is_finished:
        return []
    row["apology"] = {**letter, "old_due_at": r.iso(row["due_at"])}
    events = [reschedule(row, new_due, APOLOGY, now)]
    r.settle(row, now, calendar)
    _bump(row, now)
    return events


def legal_time_of(row: r.Row) -> LegalTime | None:
    """The legal time a dossier received here was given, as its initial due time recorded it."""
    initial: dict[str, Any] = next((h for h in row["due_history"] if h["reason"] == "initial"), {})
    return LegalTime.model_validate(initial["legal_time"]) if "legal_time" in initial else None


def redate(
    row: r.Row, legal_time: LegalTime, now: datetime, calendar: WorkingCalendar, reason: str = OFFICE_HOURS
) -> list[DomainEvent] | None:
    """Derive an open intake dossier's due time again under ``calendar`` (its unit's office hours
    or the days worked changed, as ``reason`` says): the legal time from receipt, moved by each supplement pause measured in the new hours,
    as intake and its transitions would have computed it. An apology's date stands: the letter
    promised it. None when nothing changes."""
    if row.get("apology"):
        return None
    due = calendar.add(row["received_at"], legal_time.amount, legal_time.unit, same_day=legal_time.same_day)
    pauses = [dict(p) for p in row["pauses"]]
    for pause in pauses:
        _note(pause, "due_before", due)
        if pause["resumed_at"] is None:
            break
        paused = calendar.elapsed(
            datetime.fromisoformat(pause["requested_at"]), datetime.fromisoformat(pause["resumed_at"])
        )
        pause["working_seconds"] = int(paused.total_seconds())
        due = calendar.add_working_time(due, paused)
        _note(pause, "due_after", due)
    if due == row["due_at"] and pauses == row["pauses"]:
        return None
    row["pauses"] = pauses
    events = [] if due == row["due_at"] else [reschedule(row, due, reason, now)]
    r.settle(row, now, calendar)
    _bump(row, now)
    return events


def _note(pause: dict[str, Any], key: str, instant: datetime) -> None:
    """Record ``instant`` under ``key`` unless the pause already holds that instant (in any offset)."""
    if r.from_iso(pause.get(key)) != instant:
        pause[key] = r.iso(instant)


def _record_due_change(row: r.Row, old_due: datetime | None, reason: str, now: datetime) -> DomainEvent:
    row["due_history"] = [
        *row["due_history"],
        {"due_at": r.iso(row["due_at"]), "previous_due_at": r.iso(old_due), "at": r.iso(now), "reason": reason},
    ]
    return r.rescheduled_event(row, old_due, reason)


def _finish(row: r.Row, old: r.Row, now: datetime, calendar: WorkingCalendar, events: list[DomainEvent]) -> None:
    r.settle(row, now, calendar)
    if Status(row["status"]).is_finished and not Status(old["status"]).is_finished:
        events.append(r.resolved_event(row))
    _bump(row, now)


def _bump(row: r.Row, now: datetime) -> None:
    row["version"] = row["version"] + 1
    row["updated_at"] = now
