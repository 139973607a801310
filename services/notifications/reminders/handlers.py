"""The events reminders are made from: plans' task reminders, dossiers' apology day, scoring's risks."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifications.reminders import texts
from services.notifications.reminders.schemas import DossierDueSoonIn, LetterEscalatedIn, TargetAtRiskIn, TaskReminderIn
from services.notifications.reminders.service import remind
from shared.consumer import Subscription
from shared.events import CloudEvent
from shared.uow import UnitOfWork


async def on_task_reminder(uow: UnitOfWork, event: CloudEvent) -> None:
    """To the lead unit of the task (a coordinating unit's obligation makes no reminder)."""
    task = event.data_as(TaskReminderIn)
    if task.role != "lead":
        return
    overdue = event.type.endswith(".task.overdue.v1")
    title, text = texts.task_overdue(task) if overdue else texts.task_due_soon(task)
    kind = f"task.{'overdue' if overdue else 'due_soon'}/{task.offset_days}"
    await remind(
        uow,
        subject=f"obligation:{task.obligation_id}",
        kind=kind,
        due_key=task.due.isoformat(),
        unit_code=task.unit_code,
        title=title,
        text=text,
    )


async def on_dossier_due_soon(uow: UnitOfWork, event: CloudEvent) -> None:
    """To the handling unit: the apology is due today."""
    dossier = event.data_as(DossierDueSoonIn)
    title, text = texts.dossier_due_soon(dossier)
    await remind(
        uow,
        subject=f"dossier:{dossier.ma_ho_so}",
        kind="dossier.due_soon",
        due_key=_key(dossier.due_at),
        unit_code=dossier.unit,
        title=title,
        text=text,
    )


async def on_letter_escalated(uow: UnitOfWork, event: CloudEvent) -> None:
    """To the handling unit's people, for its head: the date an apology promised passed too."""
    escalation = event.data_as(LetterEscalatedIn)
    title, text = texts.letter_escalated(escalation)
    await remind(
        uow,
        subject=f"dossier:{escalation.ma_ho_so}",
        kind="letter.escalated",
        due_key=_key(escalation.missed_due_at),
        unit_code=escalation.unit,
        title=title,
        text=text,
    )


async def on_target_at_risk(uow: UnitOfWork, event: CloudEvent) -> None:
    """To the responsible unit, once per indicator and period."""
    target = event.data_as(TargetAtRiskIn)
    title, text = texts.target_at_risk(target)
    await remind(
        uow,
        subject=f"target:{target.unit}:{target.code}",
        kind="target.at_risk",
        due_key=target.period,
        unit_code=target.unit,
        title=title,
        text=text,
    )


SUBSCRIPTIONS = [
    Subscription(
        topic="cchc.plans",
        handlers={"vn.cchc.task.due_soon.v1": on_task_reminder, "vn.cchc.task.overdue.v1": on_task_reminder},
    ),
    Subscription(topic="cchc.dossiers", handlers={"vn.cchc.dossier.due_soon.v1": on_dossier_due_soon}),
    Subscription(topic="cchc.scoring", handlers={"vn.cchc.target.at_risk.v1": on_target_at_risk}),
    Subscription(topic="cchc.notifications", handlers={"vn.cchc.letter.escalated.v1": on_letter_escalated}),
]


def _key(instant: datetime) -> str:
    """An instant as a natural key: in UTC, so the key stays the same whatever offset the event wrote it with."""
    return instant.astimezone(UTC).isoformat()
