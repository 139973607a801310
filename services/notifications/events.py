"""Events the notifications service publishes (topic ``cchc.notifications``)."""

from __future__ import annotations

from datetime import datetime

from shared.events import DomainEvent, event_type


@event_type("letter.issued", service="notifications", subject="ma_ho_so", units=("unit",))
class LetterIssued(DomainEvent):
    """An apology letter was issued: the dossier's new return date (moved once, by the first one)."""

    ma_ho_so: str
    letter_id: str
    number: str
    issued_at: datetime
    new_due_at: datetime
    unit: str
    regime: str
    missed_due_at: datetime


@event_type("letter.escalated", service="notifications", subject="ma_ho_so", units=("unit",))
class LetterEscalated(DomainEvent):
    """A dossier missed the date its apology promised (or went late again after one): no second
    letter (once-only rule); the unit's head is to be told."""

    ma_ho_so: str
    unit: str
    letter_id: str | None
    number: str | None
    promised_due_at: datetime | None  # the apology's new date
    missed_due_at: datetime
    escalated_at: datetime
