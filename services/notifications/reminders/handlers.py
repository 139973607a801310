"""The events reminders are made from: plans' task reminders, dossiers' apology day, scoring's risks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from services.notifications.reminders import texts
from services.notifications.reminders.schemas import (
    DossierDueSoonIn,
    LetterEscalatedIn,
    TargetAtRiskIn,
    TaskReminderIn,
    TaskWithdrawnIn,
)
from services.notifications.reminders.service import Reminding, remind, withdraw_unsent
from shared.consumer import Handler, Subscription
from shared.events import CloudEvent
from shared.uow import UnitOfWork


def _task(overdue: bool) -> Callable[[TaskReminderIn], Reminding | None]:
    """To the lead unit of the task (a coordinating unit's obligation makes no reminder)."""

    def reminding(task: TaskReminderIn) -> Reminding | None:
        if task.role != "lead":
            return None
        title, text = texts.task_overdue(task) if overdue else texts.task_due_soon(task)
        kind = f"task.{'overdue' if overdue else 'due_soon'}/{task.offset_days}"
        return Reminding(f"obligation:{task.obligation_id}", kind, task.due.isoformat(), task.unit_code, title, text)

    return reminding


def _dossier_due_soon(dossier: DossierDueSoonIn) -> Reminding:
    """To the handling unit: the apology is due today."""
    title, text = texts.dossier_due_soon(dossier)
    return Reminding(f"dossier:{dossier.ma_ho_so}", "dossier.due_soon", _key(dossier.due_at), dossier.unit, title, text)


def _letter_escalated(escalation: LetterEscalatedIn) -> Reminding:
    """To the handling unit's people, for its head: the date an apology promised passed too."""
    title, text = texts.letter_escalated(escalation)
    due = _key(escalation.missed_due_at)
    return Reminding(f"dossier:{escalation.ma_ho_so}", "letter.escalated", due, escalation.unit, title, text)


def _target_at_risk(target: TargetAtRiskIn) -> Reminding:
    """To the responsible unit, once per indicator and period."""
    title, text = texts.target_at_risk(target)
    return Reminding(f"target:{target.unit}:{target.code}", "target.at_risk", target.period, target.unit, title, text)


Data = TypeVar("Data", bound=BaseModel)


def reminder_from(model: type[Data], reminding: Callable[[Data], Reminding | None]) -> Handler:
    """The handler that reads an event as ``model`` and records the reminder ``reminding`` makes of it."""

    async def handle(uow: UnitOfWork, event: CloudEvent) -> None:
        found = reminding(event.data_as(model))
        if found is not None:
            await remind(uow, found)

    return handle


async def on_task_withdrawn(uow: UnitOfWork, event: CloudEvent) -> None:
    """The unit no longer owes the task: what its reminders still hold back (a digest) never goes."""
    await withdraw_unsent(uow, f"obligation:{event.data_as(TaskWithdrawnIn).obligation_id}")


SUBSCRIPTIONS = [
    Subscription(
        topic="cchc.plans",
        handlers={
            "vn.cchc.task.due_soon.v1": reminder_from(TaskReminderIn, _task(overdue=False)),
            "vn.cchc.task.overdue.v1": reminder_from(TaskReminderIn, _task(overdue=True)),
            "vn.cchc.task.withdrawn.v1": on_task_withdrawn,
        },
    ),
    Subscription(
        topic="cchc.dossiers",
        handlers={"vn.cchc.dossier.due_soon.v1": reminder_from(DossierDueSoonIn, _dossier_due_soon)},
    ),
    Subscription(
        topic="cchc.scoring", handlers={"vn.cchc.target.at_risk.v1": reminder_from(TargetAtRiskIn, _target_at_risk)}
    ),
    Subscription(
        topic="cchc.notifications",
        handlers={"vn.cchc.letter.escalated.v1": reminder_from(LetterEscalatedIn, _letter_escalated)},
    ),
]


def _key(instant: datetime) -> str:
    """An instant as a natural key: in UTC, so the key stays the same whatever offset the event wrote it with."""
    return instant.astimezone(UTC).isoformat()
