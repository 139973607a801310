"""Deadline reminders: ``task.due_soon`` some working days before each due occurrence, ``task.overdue`` after.

Reminder rows are written when a plan is published (one per occurrence, kind and offset; the
unique key forbids a second), and a sweep claims the due ones with one conditional ``UPDATE``
(``pending`` → ``sent``), so two schedulers racing on the same database send each reminder once.
When a sweep finds several reminders of one occurrence due at once (the service was down, or a
plan of a past year was published), it sends only the most urgent and marks the others skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, insert, literal, select, update

from services.plans.events import TaskDueSoon, TaskOverdue
from services.plans.models import Obligation, Occurrence, Plan, PlanNode, Reminder
from shared.calendar import WorkingCalendar
from shared.deadline_scheduler import DeadlineScheduler
from shared.service import ServiceContext
from shared.uow import UnitOfWork

DUE_SOON = "due_soon"
OVERDUE = "overdue"
SWEEP_BATCH = 500

CALENDAR = WorkingCalendar()
_SCHEDULERS: dict[int, DeadlineScheduler] = {}


def working_days_before(calendar: WorkingCalendar, due: date, count: int) -> date:
    """The working day ``count`` working days before ``due``."""
    day = due
    while count > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def reminder_instants(
    calendar: WorkingCalendar, due: date, offsets: Sequence[int], hour: int
) -> list[tuple[str, int, datetime]]:
    """(kind, offset in working days, instant) of every reminder of an occurrence due on ``due``."""
    at = time(hour)
    instants = [
        (DUE_SOON, offset, datetime.combine(working_days_before(calendar, due, offset), at, calendar.tz))
        for offset in offsets
    ]
    instants.append((OVERDUE, 1, datetime.combine(calendar.next_working_day(due), at, calendar.tz)))
    return instants


async def schedule_reminders(
    uow: UnitOfWork,
    plan_id: int,
    *,
    offsets: Sequence[int],
    hour: int,
    obligation_ids: Sequence[int] | None = None,
    calendar: WorkingCalendar = CALENDAR,
) -> None:
    """Write the pending reminders of a plan's open occurrences (or of some obligations' only)."""
    scope = [Occurrence.plan_id == plan_id, Occurrence.done_on.is_(None)]
    if obligation_ids is not None:
        scope.append(Occurrence.obligation_id.in_(obligation_ids))
    dues = (await uow.session.scalars(select(Occurrence.due).where(*scope).distinct())).all()
    for due in dues:
        for kind, offset, instant in reminder_instants(calendar, due, offsets, hour):
            rows = select(
                Occurrence.id,
                literal(kind),
                literal(offset),
                literal(instant, type_=Reminder.__table__.c.fire_at.type),
                literal("pending"),
            ).where(*scope, Occurrence.due == due)
            await uow.session.execute(
                insert(Reminder).from_select(["occurrence_id", "kind", "offset_days", "fire_at", "status"], rows)
            )


async def cancel_reminders(uow: UnitOfWork, *, obligation_id: int | None = None, plan_id: int | None = None) -> None:
    """Pending reminders of a finished obligation, or of a closed plan, are never sent."""
    occurrences = select(Occurrence.id)
    if obligation_id is not None:
        occurrences = occurrences.where(Occurrence.obligation_id == obligation_id)
    if plan_id is not None:
        occurrences = occurrences.where(Occurrence.plan_id == plan_id)
    await uow.session.execute(
        update(Reminder)
        .where(Reminder.status == "pending", Reminder.occurrence_id.in_(occurrences))
        .values(status="cancelled")
    )


async def next_due(uow: UnitOfWork) -> datetime | None:
    """The earliest instant a pending reminder falls due."""
    return await uow.session.scalar(select(func.min(Reminder.fire_at)).where(Reminder.status == "pending"))


async def sweep(uow: UnitOfWork, now: datetime, *, batch: int = SWEEP_BATCH) -> int:
    """Claim and send the reminders due at ``now`` (at most ``batch``); returns how many were claimed."""
    session = uow.session
    due_ids = (
        select(Reminder.id)
        .where(Reminder.status == "pending", Reminder.fire_at <= now)
        .order_by(Reminder.fire_at, Reminder.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    claimed = (
        await session.execute(
            update(Reminder)
            .where(Reminder.id.in_(due_ids), Reminder.status == "pending")
            .values(status="sent", sent_at=now)
            .returning(Reminder.id, Reminder.occurrence_id, Reminder.kind, Reminder.offset_days, Reminder.fire_at)
        )
    ).all()
    if not claimed:
        return 0
    most_urgent: dict[int, tuple[int, str, int, datetime]] = {}
    for reminder_id, occurrence_id, kind, offset, fire_at in claimed:
        best = most_urgent.get(occurrence_id)
        if best is None or (fire_at, reminder_id) > (best[3], best[0]):
            most_urgent[occurrence_id] = (reminder_id, kind, offset, fire_at)
    chosen = {r[0] for r in most_urgent.values()}
    superseded = [r.id for r in claimed if r.id not in chosen]
    facts = (
        await session.execute(
            select(Occurrence.id, Occurrence.due, Obligation, PlanNode.label, PlanNode.title, Plan.number, Plan.status)
            .join(Obligation, Obligation.id == Occurrence.obligation_id)
            .join(PlanNode, PlanNode.id == Obligation.node_id)
            .join(Plan, Plan.id == Obligation.plan_id)
            .where(Occurrence.id.in_(list(most_urgent)))
        )
    ).all()
    cancelled: list[int] = []
    for occurrence_id, due, obligation, label, title, number, plan_status in facts:
        reminder_id, kind, offset, _ = most_urgent[occurrence_id]
        if obligation.status == "done" or plan_status != "published":
            cancelled.append(reminder_id)
            continue
        event_class = TaskOverdue if kind == OVERDUE else TaskDueSoon
        uow.emit(
            event_class(
                obligation_id=obligation.id,
                task_id=obligation.node_id,
                task_label=label,
                task_title=title,
                plan_id=obligation.plan_id,
                plan_number=number,
                unit_code=obligation.unit_code,
                role=obligation.role,
                due=due,
                offset_days=offset,
            )
        )
    for status, ids in (("skipped", superseded), ("cancelled", cancelled)):
        if ids:
            await session.execute(update(Reminder).where(Reminder.id.in_(ids)).values(status=status, sent_at=None))
    return len(claimed)


def reminder_scheduler(context: ServiceContext) -> DeadlineScheduler:
    """A scheduler that sleeps until the next pending reminder of this service's database."""

    async def earliest() -> datetime | None:
        async with context.uow() as uow:
            return await next_due(uow)

    async def send_due(now: datetime) -> None:
        while True:
            async with context.uow() as uow:
                claimed = await sweep(uow, now)
                await uow.commit()
            if claimed < SWEEP_BATCH:
                return

    return DeadlineScheduler(
        "plans.reminders",
        next_due=earliest,
        sweep=send_due,
        clock=context.clock,
        max_sleep=context.settings.plans_scheduler_max_sleep,
    )


async def reminder_worker(context: ServiceContext) -> None:
    """The service worker: runs the reminder scheduler for as long as the service runs."""
    scheduler = reminder_scheduler(context)
    _SCHEDULERS[id(context)] = scheduler
    try:
        await scheduler.run()
    finally:
        _SCHEDULERS.pop(id(context), None)


def poke(context: ServiceContext) -> None:
    """Wake this process's reminder scheduler after a change that may bring a reminder closer."""
    scheduler = _SCHEDULERS.get(id(context))
    if scheduler is not None:
        scheduler.poke()
