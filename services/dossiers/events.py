"""Events the dossiers service publishes (topic ``cchc.dossiers``).

They carry the state their consumers need (notifications writes apology letters from
``dossier.due_soon``/``dossier.overdue`` alone; scoring counts from ``dossier.received`` and
``dossier.resolved``). Applicant fields are personal data: never log them.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from shared.events import DomainEvent, event_type


class ProcedureRef(BaseModel):
    code: str
    name: str | None
    field_code: str | None
    field_name: str | None


class Applicant(BaseModel):
    name: str | None
    address: str | None
    phone: str | None
    email: str | None


@event_type("calendar.changed", service="dossiers", subject="date")
class CalendarChanged(DomainEvent):
    """An administrator declared a day worked or not worked; every service's calendar follows."""

    date: date
    working: bool
    reason: str
    removed: bool = False  # the override was withdrawn: the holiday calendar decides again


@event_type("dossier.received", service="dossiers", subject="ma_ho_so")
class DossierReceived(DomainEvent):
    ma_ho_so: str
    unit: str
    procedure: ProcedureRef
    channel: int
    received_at: datetime | None
    due_at: datetime | None
    rule_set: str
    origin: str


@event_type("dossier.status_changed", service="dossiers", subject="ma_ho_so")
class DossierStatusChanged(DomainEvent):
    ma_ho_so: str
    unit: str
    from_status: int | None
    to_status: int
    at: datetime | None


class _Lateness(DomainEvent):
    """What a letter needs: who, what, when received, when due, under which rules."""

    ma_ho_so: str
    unit: str
    procedure: ProcedureRef
    channel: int
    applicant: Applicant
    received_at: datetime | None
    due_at: datetime
    rule_set: str


@event_type("dossier.due_soon", service="dossiers", subject="ma_ho_so")
class DossierDueSoon(_Lateness):
    """One working day before the due time and still unfinished: the apology is due now."""

    apology_deadline: datetime


@event_type("dossier.overdue", service="dossiers", subject="ma_ho_so")
class DossierOverdue(_Lateness):
    """The due time passed with the dossier unfinished."""


@event_type("dossier.overdue_after_apology", service="dossiers", subject="ma_ho_so")
class DossierOverdueAfterApology(_Lateness):
    """The new date promised in the apology passed too: escalate, no second letter (once-only rule)."""

    apology_letter_id: str | None
    original_due_at: datetime | None


@event_type("dossier.resolved", service="dossiers", subject="ma_ho_so")
class DossierResolved(DomainEvent):
    ma_ho_so: str
    unit: str
    procedure: ProcedureRef
    status: int
    received_at: datetime | None
    finished_at: datetime
    due_at: datetime | None
    timeliness: str
    on_time: bool  # early or on time: finished by the due time with at most one supplement request
    supplement_count: int
    channel: int
    paid_online: int | None
    has_fees: bool
    digitised: int | None
    documents_digitised: int
    documents_reused: int
    rule_set: str


@event_type("dossier.rescheduled", service="dossiers", subject="ma_ho_so")
class DossierRescheduled(DomainEvent):
    ma_ho_so: str
    unit: str
    old_due_at: datetime | None
    new_due_at: datetime | None
    reason: str  # supplement | apology | partner_update
