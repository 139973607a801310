"""Events the dossiers service publishes (topic ``cchc.dossiers``).

They carry the state their consumers need (notifications writes apology letters from
``dossier.due_soon``/``dossier.overdue`` alone; scoring counts from ``dossier.received`` and
``dossier.resolved``). Applicant fields are personal data: never log them.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from shared.events import DomainEvent, event_type


class ProcedureRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str | None
    field_code: str | None
    field_name: str | None


class Applicant(BaseModel):
    name: str | None
    address: str | None
    phone: str | None
    email: str | None


class OfficeHoursRef(BaseModel):
    windows: list[str]  # "HH:MM-HH:MM", in order
    same_day_cutoff: str  # "HH:MM"
    set_on: str | None  # the unit that set them (the changed unit or an ancestor); None: the default hours


@event_type("calendar.changed", service="dossiers", subject="date", units=("unit",))
class CalendarChanged(DomainEvent):
    """An administrator changed the working-time calendar; every service's calendar follows.

    Either a day declared worked or not worked, which names no ``unit`` (it holds for every unit),
    or a unit's office hours, which name the ``unit`` and carry the ``office_hours`` now in force
    for it (its sub-units without hours of their own follow). An office-hours change has the day of
    the change as ``date`` and whether that day is worked as ``working``, so a reader of the day
    fields alone learns nothing false.
    """

    date: date
    working: bool
    reason: str
    removed: bool = False  # a day override was withdrawn: the holiday calendar decides again
    unit: str | None = None
    office_hours: OfficeHoursRef | None = None


@event_type("dossier.received", service="dossiers", subject="ma_ho_so", units=("unit",))
class DossierReceived(DomainEvent):
    ma_ho_so: str
    unit: str
    procedure: ProcedureRef
    channel: int
    received_at: datetime | None
    due_at: datetime | None
    rule_set: str
    origin: str


@event_type("dossier.status_changed", service="dossiers", subject="ma_ho_so", units=("unit",))
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


@event_type("dossier.due_soon", service="dossiers", subject="ma_ho_so", units=("unit",), personal=("applicant",))
class DossierDueSoon(_Lateness):
    """One working day before the due time and still unfinished: the apology is due now."""

    apology_deadline: datetime


@event_type("dossier.overdue", service="dossiers", subject="ma_ho_so", units=("unit",), personal=("applicant",))
class DossierOverdue(_Lateness):
    """The due time passed with the dossier unfinished."""


@event_type(
    "dossier.overdue_after_apology", service="dossiers", subject="ma_ho_so", units=("unit",), personal=("applicant",)
)
class DossierOverdueAfterApology(_Lateness):
    """The new date promised in the apology passed too: escalate, no second letter (once-only rule)."""

    apology_letter_id: str | None
    original_due_at: datetime | None


@event_type("dossier.resolved", service="dossiers", subject="ma_ho_so", units=("unit",))
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


@event_type("dossier.rescheduled", service="dossiers", subject="ma_ho_so", units=("unit",))
class DossierRescheduled(DomainEvent):
    ma_ho_so: str
    unit: str
    old_due_at: datetime | None
    new_due_at: datetime | None
    reason: str  # supplement | apology | partner_update | office_hours | calendar_day
