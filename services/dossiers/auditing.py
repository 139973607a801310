"""The due times the audit log records apart from a transition: an apology's new date, a re-dating."""

from __future__ import annotations

from collections.abc import Sequence

from services.dossiers.events import DossierRescheduled
from shared.events import DomainEvent
from shared.uow import UnitOfWork


def audit_due_changes(uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
    """One ``dossier.due_changed`` per due time moved among ``events`` (a transition records its own
    in ``dossier.transition``)."""
    for event in events:
        if isinstance(event, DossierRescheduled):
            changes = {"due_at": [event.old_due_at, event.new_due_at], "reason": event.reason}
            uow.audit("dossier.due_changed", "dossier", event.ma_ho_so, changes)
