"""The dossier, declared once, and the aggregate that owns its rules.

:class:`Dossier` is a slotted dataclass whose fields are the ``dossiers`` table's columns (the
table in ``models.py`` stays the storage; a test holds the two to the same names). Each field says
whether the provincial record determines it (``record``: a newer synced copy overwrites it) and
whether a view shows it (``shown``); the storage row, the sync merge and the read queries derive
their column lists from these marks, so no list of the dossier's fields is copied by hand.

Its methods apply a synced record, change status (pausing and resuming the clock), settle and
judge timeliness, reschedule, record the apology, re-date and ring an alarm; each records the
events it must publish in :attr:`Dossier.events`, which the caller hands to the unit of work
(:meth:`Dossier.collect_events`). Rows go to and from the database as plain dicts
(:meth:`to_row`, :meth:`from_row`), so a batch stays one ``COPY``/``UPDATE`` statement.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

import orjson

from services.dossiers import timeliness as t
from services.dossiers.codes import ON_TIME, PROGRESS_RANK, Origin, Status
from services.dossiers.dvcqg import Document, Fee, ResultPaper
from services.dossiers.events import (
    Applicant,
    DossierDueSoon,
    DossierOverdue,
    DossierOverdueAfterApology,
    DossierReceived,
    DossierRescheduled,
    DossierResolved,
    DossierStatusChanged,
    ProcedureRef,
)
from services.dossiers.schemas import LegalTime
from shared.calendar import WorkingCalendar
from shared.events import DomainEvent

Json = dict[str, Any]
INITIAL, SUPPLEMENT, APOLOGY, PARTNER_UPDATE = "initial", "supplement", "apology", "partner_update"
OFFICE_HOURS, CALENDAR_DAY = "office_hours", "calendar_day"  # what made a re-dating necessary


def _column(default: Any = dataclasses.MISSING, *, factory: Any = None, record: bool = True, shown: bool = True) -> Any:
    """A stored field: ``record`` when the provincial record determines it, ``shown`` when a view reads it."""
    metadata = {"record": record, "shown": shown}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _kept(default: Any = None, *, factory: Any = None, shown: bool = True) -> Any:
    """A stored field this service keeps itself (timeliness, alarms, due history...): a sync leaves it."""
    return _column(default, factory=factory, record=False, shown=shown)


@dataclass(slots=True, kw_only=True, eq=False)
class Dossier:
    """A TTHC dossier: the national HoSo fields plus what this service derives and records."""

    ma_ho_so: str = _column()
    origin: str = _column()
    agency: str = _column()
    unit_code: str = _column()
    ma_tthc: str = _column()
    procedure_name: str | None = _column(None)
    field_code: str | None = _column(None)
    field_name: str | None = _column(None)
    channel: int = _column()
    status: int = _column()
    applicant_name: str | None = _column(None)
    applicant_id_number: str | None = _column(None)
    applicant_type: int | None = _column(None)
    applicant_code: str | None = _column(None, shown=False)
    email: str | None = _column(None)
    phone: str | None = _column(None)
    address: str | None = _column(None)
    summary: str | None = _column(None)
    handling_unit_name: str | None = _column(None, shown=False)
    submitted_place: str | None = _column(None, shown=False)
    result_form: int | None = _column(None, shown=False)
    submitted_at: datetime | None = _column(None)
    received_at: datetime | None = _column(None)
    due_at: datetime | None = _column(None)
    original_due_at: datetime | None = _column(None)
    finished_at: datetime | None = _column(None)
    returned_at: datetime | None = _column(None)
    refused_at: datetime | None = _column(None, shown=False)
    rule_set: str = _column()
    timeliness: str | None = _kept()
    supplement_count: int = _column(0)
    digitised: int | None = _column(None)
    vneid_verified: int | None = _column(None, shown=False)
    paid_online: int | None = _column(None)
    documents: list[Document] = _column(factory=list)
    fees: list[Fee] = _column(factory=list)
    supplements: list[Json] = _column(factory=list, shown=False)
    result_papers: list[ResultPaper] = _column(factory=list)
    extra: Json = _column(factory=dict)  # fields beyond the national format, kept as sent
    status_history: list[Json] = _column(factory=list)
    pauses: list[Json] = _column(factory=list)
    due_history: list[Json] = _kept(factory=list)
    apology: Json | None = _kept()
    state_at: datetime | None = _column(None, shown=False)  # the latest instant the record carries
    state_rank: int = _column(0, shown=False)
    content_hash: str = _column("", shown=False)  # identifies a resend of the very same record
    alarm_at: datetime | None = _kept(shown=False)
    alarm_kind: str | None = _kept(shown=False)
    apology_due_at: datetime | None = _kept()
    version: int = _kept(1)
    created_at: datetime | None = _kept(shown=False)  # set when the dossier opens
    updated_at: datetime | None = _kept()
    events: list[DomainEvent] = field(default_factory=list, init=False, repr=False)
    """What happened to it since the caller last collected (not stored)."""

    # --- storage ---------------------------------------------------------------------------------

    def to_row(self) -> Json:
        """The ``dossiers`` row (every column)."""
        return dict(zip(COLUMNS, _values(self), strict=True))

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Dossier:
        """The dossier a stored row holds (a ``RowMapping`` of every column)."""
        return cls(**row)

    def copy(self) -> Dossier:
        """A copy to change, leaving this one as it is (its lists are replaced, never changed, by the methods)."""
        return Dossier.from_row(self.to_row())

    def collect_events(self) -> list[DomainEvent]:
        """The events recorded since the last call, in order, for the unit of work to publish."""
        events, self.events = self.events, []
        return events

    # --- rules -----------------------------------------------------------------------------------

    def open(self, now: datetime, calendar: WorkingCalendar, legal_time: LegalTime | None = None) -> None:
        """A dossier seen for the first time: ``received``, and ``resolved`` if it arrives finished.
        ``legal_time`` (received here) is kept with the initial due time it was computed from."""
        original = self.original_due_at or self.due_at
        initial: Json = {"due_at": iso(original), "at": iso(self.received_at), "reason": INITIAL}
        if legal_time is not None:
            initial["legal_time"] = legal_time.model_dump(mode="json")
        history = [] if original is None else [initial]
        if self.due_at != original:
            history.append(_due_change(self.due_at, original, now, SUPPLEMENT))
        self.original_due_at, self.due_history, self.apology = original, history, None
        self.version, self.created_at, self.updated_at = 1, now, now
        self.settle(now, calendar)
        self.events.append(self._received())
        if Status(self.status).is_finished:
            self.events.append(self._resolved())

    def is_stale(self, state_at: datetime | None, rank: int, latest: datetime) -> bool:
        """Whether a copy at ``state_at``/``rank`` is older than this one (by the latest instant it
        carries, then by progress). A stored instant later than ``latest`` (now plus the tolerance)
        is implausible: it never wins."""
        if self.state_at is not None and self.state_at > latest:
            return False
        if self.state_at is None or state_at is None:
            return state_at is None and self.state_at is not None
        return (state_at, rank) < (self.state_at, self.state_rank)

    def apply_synced(self, new: Dossier, now: datetime, calendar: WorkingCalendar) -> None:
        """A newer copy of this synced dossier (the caller checked it is newer and different): the
        record's fields, the status history merged, an apology's date kept until the partner sets a later one."""
        old_status, old_due, old_history, old_original = (
            self.status,
            self.due_at,
            self.status_history,
            self.original_due_at,
        )
        for name in RECORD_FIELDS:
            setattr(self, name, getattr(new, name))
        self.status_history = merge_history(old_history, new.status_history)
        self.original_due_at = old_original or new.original_due_at
        events: list[DomainEvent] = []
        if old_status != self.status:
            events.append(self._status_changed(old_status, self.state_at))
        if self.apology and old_due is not None and (new.due_at is None or new.due_at < old_due):
            self.due_at = old_due
        if self.due_at != old_due:
            promised = {p.get("due_after") for p in self.pauses}
            reason = SUPPLEMENT if iso(self.due_at) in promised else PARTNER_UPDATE
            events.append(self._due_moved(old_due, reason, now))
        self._finish(old_status, now, calendar, events)

    def change_status(
        self,
        to: Status,
        at: datetime,
        now: datetime,
        calendar: WorkingCalendar,
        *,
        source: str,
        details: Mapping[str, Any],
        due_by_partner: datetime | None = None,
    ) -> None:
        """Move to ``to`` at ``at``: the clock pauses and resumes, the due time moves by the pause
        (or to ``due_by_partner`` when the provincial system dictates it), finishing judges timeliness."""
        from_status = Status(self.status)
        events: list[DomainEvent] = []
        self.status = int(to)
        self.status_history = [*self.status_history, history_entry(int(to), at, source, **details)]
        self.pauses = [dict(p) for p in self.pauses]
        if to.is_paused and not from_status.is_paused:
            self._pause(at)
        if from_status.is_paused and not to.is_paused and self.pauses:
            self._resume(at, now, calendar, events, moves_due=due_by_partner is None)
        if due_by_partner is not None and due_by_partner != self.due_at:
            reason = SUPPLEMENT if from_status.is_paused else PARTNER_UPDATE
            events.append(self.reschedule(due_by_partner, reason, now))
        if to.is_finished and self.finished_at is None:
            self.finished_at = at
        if to is Status.returned:
            self.returned_at = at
        if to is Status.not_received:
            self.refused_at = at
        self.state_at = max(at, self.state_at) if self.state_at else at
        self.state_rank = PROGRESS_RANK[to]
        if to is not from_status:
            events.insert(0, self._status_changed(int(from_status), at))
        self._finish(int(from_status), now, calendar, events)

    def _pause(self, at: datetime) -> None:
        """The applicant is asked for more: the clock stands from ``at``."""
        self.pauses.append(
            {"requested_at": iso(at), "resumed_at": None, "working_seconds": None, "due_before": iso(self.due_at)}
        )
        self.supplement_count += 1

    def _resume(
        self, at: datetime, now: datetime, calendar: WorkingCalendar, events: list[DomainEvent], *, moves_due: bool
    ) -> None:
        """The supplement arrived at ``at``: the open pause ends; a dossier received here is due
        later by the working time it lasted (``moves_due``: unless the partner dictates the date)."""
        pause = self.pauses[-1]
        paused = calendar.elapsed(from_iso(pause["requested_at"]) or at, at)
        pause["resumed_at"] = iso(at)
        pause["working_seconds"] = int(paused.total_seconds())
        if moves_due and self.due_at is not None and self.origin == Origin.intake:
            events.append(self.reschedule(calendar.add_working_time(self.due_at, paused), SUPPLEMENT, now))
            pause["due_after"] = iso(self.due_at)

    def reschedule(self, new_due: datetime, reason: str, now: datetime) -> DossierRescheduled:
        """Move the due time to ``new_due``, noted in the due history; returns the event (the caller records it)."""
        old_due, self.due_at = self.due_at, new_due
        return self._due_moved(old_due, reason, now)

    def record_apology(self, letter: Json, new_due: datetime, now: datetime, calendar: WorkingCalendar) -> bool:
        """The once-only new date of an apology letter; a second letter (or a finished dossier) changes nothing."""
        if self.apology or Status(self.status).is_finished:
            return False
        self.apology = {**letter, "old_due_at": iso(self.due_at)}
        self.events.append(self.reschedule(new_due, APOLOGY, now))
        self.settle(now, calendar)
        self._bump(now)
        return True

    @property
    def legal_time(self) -> LegalTime | None:
        """The legal time a dossier received here was given, as its initial due time recorded it."""
        initial: Json = next((h for h in self.due_history if h["reason"] == INITIAL), {})
        return LegalTime.model_validate(initial["legal_time"]) if "legal_time" in initial else None

    def redate(
        self, legal_time: LegalTime, now: datetime, calendar: WorkingCalendar, reason: str = OFFICE_HOURS
    ) -> bool:
        """Derive an open intake dossier's due time again under ``calendar`` (its unit's office
        hours or the days worked changed, as ``reason`` says): the legal time from receipt, moved by
        each supplement pause measured in the new hours, as intake and its transitions would have
        computed it. An apology's date stands: the letter promised it. False when nothing changes."""
        if self.apology or self.received_at is None:
            return False
        due = calendar.add(self.received_at, legal_time.amount, legal_time.unit, same_day=legal_time.same_day)
        pauses = [dict(p) for p in self.pauses]
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
        if due == self.due_at and pauses == self.pauses:
            return False
        self.pauses = pauses
        if due != self.due_at:
            self.events.append(self.reschedule(due, reason, now))
        self.settle(now, calendar)
        self._bump(now)
        return True

    def resettle(self, now: datetime, calendar: WorkingCalendar) -> bool:
        """What this service derives in working time from the due time (the apology deadline, the
        next alarm, timeliness) computed again under ``calendar``, the due time left as it is (a
        synced dossier's NgayHenTra is the provincial system's). False when nothing changes."""
        derived = (self.apology_due_at, self.alarm_at, self.alarm_kind, self.timeliness)
        self.settle(now, calendar)
        if (self.apology_due_at, self.alarm_at, self.alarm_kind, self.timeliness) == derived:
            return False
        self._bump(now)
        return True

    def settle(self, now: datetime, calendar: WorkingCalendar) -> None:
        """Set timeliness, the next alarm and the apology deadline from the status, due time and apology."""
        status = Status(self.status)
        self.alarm_at, self.alarm_kind, self.apology_due_at = None, None, None
        if status.is_finished:
            self.timeliness = t.judge(self.finished_at or now, self.judged_due, self.supplement_count).value
            return
        if status.is_paused:  # the clock stands: judged as it stood when the applicant was asked
            asked = from_iso(self.pauses[-1]["requested_at"]) if self.pauses else None
            self.timeliness = t.open_timeliness(min(asked or now, now), self.due_at, calendar).value
            return
        self.timeliness = t.open_timeliness(now, self.due_at, calendar).value
        if status is Status.registered:
            return  # the clock has not started: nothing falls due
        apologised = bool(self.apology)
        self.alarm_at, self.alarm_kind = t.next_alarm(now, self.due_at, apologised=apologised, calendar=calendar)
        self.apology_due_at = t.apology_deadline(self.due_at, apologised=apologised, calendar=calendar)

    def ring(self, kind: str, now: datetime, calendar: WorkingCalendar, *, first: bool) -> None:
        """The alarm ``kind`` rang at ``now``; ``first`` when no replica fired it before (it publishes
        then). The next alarm is the overdue at the due instant, or none."""
        if first and self.due_at is not None:
            self.events.append(self._alarm(kind, self.due_at, calendar))
        if kind == t.DUE_SOON:
            self.alarm_at, self.alarm_kind = self.due_at, t.OVERDUE  # already past: the next batch fires it
        else:
            self.alarm_at, self.alarm_kind = None, None
        self.timeliness = t.open_timeliness(now, self.due_at, calendar).value

    @property
    def judged_due(self) -> datetime | None:
        """The due time a finished dossier is judged against: the one before any apology moved it."""
        return from_iso(self.apology["old_due_at"]) if self.apology else self.due_at

    def _finish(self, old_status: int, now: datetime, calendar: WorkingCalendar, events: list[DomainEvent]) -> None:
        self.settle(now, calendar)
        if Status(self.status).is_finished and not Status(old_status).is_finished:
            events.append(self._resolved())
        self._bump(now)
        self.events += events

    def _bump(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now

    def _due_moved(self, old_due: datetime | None, reason: str, now: datetime) -> DossierRescheduled:
        self.due_history = [*self.due_history, _due_change(self.due_at, old_due, now, reason)]
        return DossierRescheduled(
            ma_ho_so=self.ma_ho_so, unit=self.unit_code, old_due_at=old_due, new_due_at=self.due_at, reason=reason
        )

    # --- events ----------------------------------------------------------------------------------

    def _about(self) -> Json:
        """What every event about the dossier as a whole carries."""
        return {
            "ma_ho_so": self.ma_ho_so,
            "unit": self.unit_code,
            "procedure": _procedure(self.ma_tthc, self.procedure_name, self.field_code, self.field_name),
            "channel": self.channel,
            "received_at": self.received_at,
            "rule_set": self.rule_set,
        }

    def _received(self) -> DossierReceived:
        return DossierReceived(due_at=self.due_at, origin=self.origin, **self._about())

    def _status_changed(self, from_status: int | None, at: datetime | None) -> DossierStatusChanged:
        return DossierStatusChanged(
            ma_ho_so=self.ma_ho_so, unit=self.unit_code, from_status=from_status, to_status=self.status, at=at
        )

    def _resolved(self) -> DossierResolved:
        """``dossier.resolved``: called once settled, so it has finished and been judged."""
        assert self.finished_at is not None and self.timeliness is not None
        documents = self.documents
        return DossierResolved(
            status=self.status,
            finished_at=self.finished_at,
            due_at=self.judged_due,
            timeliness=self.timeliness,
            on_time=self.timeliness in ON_TIME,
            supplement_count=self.supplement_count,
            paid_online=self.paid_online,
            has_fees=bool(self.fees),
            digitised=self.digitised,
            documents_digitised=sum(1 for d in documents if d.get("DuocSoHoa") == 1),
            documents_reused=sum(1 for d in documents if d.get("DuocTaiSuDung") == 1 or d.get("DuocLayTuKhoDMQG") == 1),
            **self._about(),
        )

    def _alarm(self, kind: str, due_at: datetime, calendar: WorkingCalendar) -> DomainEvent:
        applicant = Applicant(name=self.applicant_name, address=self.address, phone=self.phone, email=self.email)
        common: Json = {"applicant": applicant, "due_at": due_at, **self._about()}
        if kind == t.DUE_SOON:
            return DossierDueSoon(apology_deadline=calendar.one_working_day_before(due_at), **common)
        if kind == t.OVERDUE_AFTER_APOLOGY:
            apology = self.apology or {}
            return DossierOverdueAfterApology(
                apology_letter_id=apology.get("letter_id"),
                original_due_at=from_iso(apology.get("old_due_at")),
                **common,
            )
        return DossierOverdue(**common)


_STORED = [f for f in fields(Dossier) if f.metadata]
COLUMNS: tuple[str, ...] = tuple(f.name for f in _STORED)
"""Every column of the ``dossiers`` table, in the table's order."""
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in _STORED if f.metadata["record"])
"""The columns a synced record determines."""
SHOWN: tuple[str, ...] = tuple(f.name for f in _STORED if f.metadata["shown"])
"""The columns a view reads (the others are bookkeeping: hashes, alarms, raw supplements)."""
_values = attrgetter(*COLUMNS)
APPLICANT = {
    "name": "applicant_name",
    "id_number": "applicant_id_number",
    "type": "applicant_type",
    "email": "email",
    "phone": "phone",
    "address": "address",
}
"""The applicant's fields, as the API names them, and the columns that hold them."""
PROCEDURE = {"code": "ma_tthc", "name": "procedure_name", "field_code": "field_code", "field_name": "field_name"}
"""The procedure's fields, as the API names them, and the columns that hold them."""


# --- value objects stored with it (JSON text, instants as ISO strings) ------------------------------


def iso(instant: datetime | None) -> str | None:
    """``instant.isoformat()``, written by orjson (the same text, a third of the time)."""
    return None if instant is None else orjson.dumps(instant)[1:-1].decode()


def from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def history_entry(status: int, at: datetime | None, source: str, **details: Any) -> Json:
    """A status step of the history, with the details given (actor, note...) that are not None."""
    entry = {"status": status, "at": iso(at), "source": source}
    if details:
        entry.update({k: v for k, v in details.items() if v is not None})
    return entry


def merge_history(old: list[Json], new: list[Json]) -> list[Json]:
    seen = {(h["status"], h["at"]) for h in old}
    merged = old + [h for h in new if (h["status"], h["at"]) not in seen]
    return sorted(merged, key=lambda h: h["at"] or "")


def pause_record(
    requested: datetime, resumed: datetime | None, due_before: datetime | None, due_after: datetime | None,
    calendar: WorkingCalendar,
) -> Json:  # fmt: skip
    """A supplement episode: requested, completed, and the working time the clock stood still."""
    paused: timedelta | None = calendar.elapsed(requested, resumed) if resumed is not None else None
    return {
        "requested_at": iso(requested),
        "resumed_at": iso(resumed),
        "working_seconds": None if paused is None else int(paused.total_seconds()),
        "due_before": iso(due_before),
        "due_after": iso(due_after),
    }


def _due_change(due: datetime | None, previous: datetime | None, at: datetime, reason: str) -> Json:
    return {"due_at": iso(due), "previous_due_at": iso(previous), "at": iso(at), "reason": reason}


def _note(pause: Json, key: str, instant: datetime) -> None:
    """Record ``instant`` under ``key`` unless the pause already holds that instant (in any offset)."""
    if from_iso(pause.get(key)) != instant:
        pause[key] = iso(instant)


@lru_cache(maxsize=4096)
def _procedure(code: str, name: str | None, field_code: str | None, field_name: str | None) -> ProcedureRef:
    """One immutable reference per procedure, shared by its dossiers' events (a batch has thousands)."""
    return ProcedureRef(code=code, name=name, field_code=field_code, field_name=field_name)
