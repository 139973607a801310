"""Deadline reminders: ``task.due_soon`` some working days before each due occurrence, ``task.overdue`` after.

Reminder rows are written when a plan is published (one per occurrence, kind, offset and due
date; the unique key forbids a second), and a sweep claims the due ones with one conditional
``UPDATE`` (``pending`` → ``sent``), so two schedulers racing on the same database send each
reminder once. When a sweep finds several reminders of one occurrence due at once (the service
was down, or a plan of a past year was published), it sends only the most urgent and marks the
others skipped: a sweep's batch is a number of occurrences, each claimed with all its due
reminders, so one occurrence gets one reminder per instant whatever the batch size.

A plan remembers the policy (offsets and hour) its reminders were planned with. When the
settings say otherwise at start-up, the scheduler re-plans the plan's future pending reminders;
those sent (or due already) stay as they are, and the key keeps a sent one from going twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Date, delete, func, literal, or_, select, update

from services.plans.events import TaskDueSoon, TaskOverdue
from services.plans.models import Obligation, Occurrence, Plan, PlanNode, Reminder, calendars
from services.plans.schemas import PlanStatus, ProgressStatus
from services.plans.settings import PlansSettings
from shared.calendar import WorkingCalendar
from shared.db import rowcount, upsert
from shared.service import Deadlines, ServiceContext
from shared.settings import Settings
from shared.uow import UnitOfWork

DUE_SOON = "due_soon"
OVERDUE = "overdue"
SWEEP_BATCH = 500


@dataclass(frozen=True)
class ReminderPolicy:
    """When reminders go out: these working days before a due date, at this local hour."""

    offsets: tuple[int, ...]
    hour: int

    @classmethod
    def of(cls, settings: Settings) -> ReminderPolicy:
        plans = PlansSettings.of(settings)
        return cls(tuple(plans.plans_reminder_offsets), plans.plans_reminder_hour)

    @classmethod
    def parse(cls, text: str) -> ReminderPolicy:
        """The inverse of ``str()``: ``"5,1@7"``."""
        offsets, hour = text.split("@")
        return cls(tuple(int(o) for o in offsets.split(",") if o), int(hour))

    def __str__(self) -> str:
        return f"{','.join(map(str, self.offsets))}@{self.hour}"


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


async def plan_reminders(
    uow: UnitOfWork,
    plan: Plan,
    scope: Sequence[ColumnElement[bool]] = (),
    *,
    after: datetime | None = None,
) -> None:
    """Write the pending reminders of a published plan's open occurrences (those ``scope`` selects)
    under the plan's policy.

    Without ``after`` (a publication) every instant is written, past ones included: the sweep
    sends the most urgent. With it (re-planning) only instants after it, or the overdue alone
    when all are past. A reminder already written for the same occurrence, kind, offset and due
    date is not written again; only one cancelled with its obligation's withdrawal is pending again.
    """
    if plan.status != PlanStatus.published or plan.reminder_policy is None:
        return
    policy = ReminderPolicy.parse(plan.reminder_policy)
    uow.deadlines_moved()
    calendar = await calendars.working_calendar(uow.session)
    where = [
        Occurrence.plan_id == plan.id,
        Occurrence.status != ProgressStatus.done,
        Obligation.withdrawn_at.is_(None),
        *scope,
    ]
    open_occurrences = select(Occurrence.id).join(Obligation, Obligation.id == Occurrence.obligation_id).where(*where)
    dues = (await uow.session.scalars(open_occurrences.with_only_columns(Occurrence.due).distinct())).all()
    table = Reminder.__table__
    for due in dues:
        instants = reminder_instants(calendar, due, policy.offsets, policy.hour)
        if after is not None:
            instants = [i for i in instants if i[2] > after] or instants[-1:]
        for kind, offset, instant in instants:
            rows = open_occurrences.add_columns(
                literal(kind),
                literal(offset),
                literal(due, type_=Date()),
                literal(instant, type_=table.c.fire_at.type),
                literal("pending"),
            ).where(Occurrence.due == due)
            statement = upsert(uow.session, table).from_select(
                ["occurrence_id", "kind", "offset_days", "due", "fire_at", "status"], rows
            )
            await uow.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["occurrence_id", "kind", "offset_days", "due"],
                    set_={"status": "pending", "fire_at": statement.excluded.fire_at},
                    where=table.c.status == "cancelled",
                )
            )


async def drop_stale_reminders(uow: UnitOfWork, occurrence_ids: Sequence[int]) -> None:
    """Pending reminders of these occurrences planned for a due date they no longer have."""
    moved = select(Occurrence.due).where(Occurrence.id == Reminder.occurrence_id).scalar_subquery()
    await uow.session.execute(
        delete(Reminder).where(
            Reminder.status == "pending", Reminder.occurrence_id.in_(occurrence_ids), Reminder.due != moved
        )
    )


async def cancel_reminders(
    uow: UnitOfWork,
    *,
    occurrence_ids: Sequence[int] | None = None,
    obligation_ids: Sequence[int] | None = None,
    plan_id: int | None = None,
) -> None:
    """Pending reminders of done occurrences, withdrawn obligations or a closed plan are never sent."""
    occurrences = select(Occurrence.id)
    if occurrence_ids is not None:
        occurrences = occurrences.where(Occurrence.id.in_(occurrence_ids))
    if obligation_ids is not None:
        occurrences = occurrences.where(Occurrence.obligation_id.in_(obligation_ids))
    if plan_id is not None:
        occurrences = occurrences.where(Occurrence.plan_id == plan_id)
    await uow.session.execute(
        update(Reminder)
        .where(Reminder.status == "pending", Reminder.occurrence_id.in_(occurrences))
        .values(status="cancelled")
    )


async def plans_to_replan(uow: UnitOfWork, policy: ReminderPolicy) -> list[int]:
    """Published plans whose reminders were planned under another policy."""
    stale = or_(Plan.reminder_policy.is_(None), Plan.reminder_policy != str(policy))
    return list(await uow.session.scalars(select(Plan.id).where(Plan.status == PlanStatus.published, stale)))


async def replan(uow: UnitOfWork, plan_id: int, policy: ReminderPolicy, now: datetime) -> bool:
    """Re-plan the future pending reminders of a published plan under ``policy``; False when it
    was planned under it already (another replica may just have done it)."""
    plan = await uow.session.get(Plan, plan_id)
    if plan is None or plan.status != PlanStatus.published or plan.reminder_policy == str(policy):
        return False
    same = (
        Plan.reminder_policy.is_(None) if plan.reminder_policy is None else Plan.reminder_policy == plan.reminder_policy
    )
    claimed = await uow.session.execute(
        update(Plan)
        .where(Plan.id == plan_id, same)
        .values(reminder_policy=str(policy))
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) != 1:
        return False
    plan.reminder_policy = str(policy)
    future = select(Occurrence.id).where(Occurrence.plan_id == plan_id)
    await uow.session.execute(
        delete(Reminder).where(Reminder.status == "pending", Reminder.fire_at > now, Reminder.occurrence_id.in_(future))
    )
    await plan_reminders(uow, plan, after=now)
    return True


async def replan_for_calendar(uow: UnitOfWork, now: datetime) -> None:
    """The working calendar changed (a day declared worked or off): re-plan the future pending
    reminders of every published plan by it. Sent ones stay; the key keeps one from going twice."""
    await uow.session.flush()  # the calendar copy the handler just wrote is what plan_reminders reads
    published = (await uow.session.scalars(select(Plan).where(Plan.status == PlanStatus.published))).all()
    future = select(Occurrence.id).where(Occurrence.plan_id.in_([plan.id for plan in published]))
    await uow.session.execute(
        delete(Reminder).where(Reminder.status == "pending", Reminder.fire_at > now, Reminder.occurrence_id.in_(future))
    )
    for plan in published:
        await plan_reminders(uow, plan, after=now)


async def skip_past_reminders(uow: UnitOfWork, plan_id: int, now: datetime) -> None:
    """Mark a plan's reminders due by ``now`` skipped: they are never sent (the demo's past)."""
    await uow.session.execute(
        update(Reminder)
        .where(
            Reminder.status == "pending",
            Reminder.fire_at <= now,
            Reminder.occurrence_id.in_(select(Occurrence.id).where(Occurrence.plan_id == plan_id)),
        )
        .values(status="skipped")
    )


async def next_due(uow: UnitOfWork) -> datetime | None:
    """The earliest instant a pending reminder falls due."""
    return await uow.session.scalar(select(func.min(Reminder.fire_at)).where(Reminder.status == "pending"))


async def sweep(uow: UnitOfWork, now: datetime, *, batch: int = SWEEP_BATCH) -> int:
    """Claim every reminder due at ``now`` of at most ``batch`` occurrences and send the most urgent
    of each; returns how many occurrences were claimed.

    The batch counts occurrences, not reminders, so the reminders of one occurrence are never split
    between two batches (each would send one). Replicas lock the occurrences they claim and skip
    those another one holds.
    """
    session = uow.session
    is_due = (Reminder.status == "pending", Reminder.fire_at <= now)
    occurrences = (
        select(Occurrence.id)
        .where(Occurrence.id.in_(select(Reminder.occurrence_id).where(*is_due)))
        .order_by(Occurrence.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    claimed = (
        await session.execute(
            update(Reminder)
            .where(Reminder.occurrence_id.in_(occurrences), *is_due)
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
            select(
                Occurrence.id,
                Occurrence.due,
                Occurrence.status,
                Obligation,
                PlanNode.label,
                PlanNode.title,
                Plan.number,
                Plan.status,
            )
            .join(Obligation, Obligation.id == Occurrence.obligation_id)
            .join(PlanNode, PlanNode.id == Obligation.node_id)
            .join(Plan, Plan.id == Obligation.plan_id)
            .where(Occurrence.id.in_(list(most_urgent)))
        )
    ).all()
    cancelled: list[int] = []
    for occurrence_id, due, occurrence_status, obligation, label, title, number, plan_status in facts:
        reminder_id, kind, offset, _ = most_urgent[occurrence_id]
        if (
            occurrence_status == ProgressStatus.done
            or obligation.withdrawn_at is not None
            or plan_status != "published"
        ):
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
                occurrence_id=occurrence_id,
            )
        )
    for status, ids in (("skipped", superseded), ("cancelled", cancelled)):
        if ids:
            await session.execute(update(Reminder).where(Reminder.id.in_(ids)).values(status=status, sent_at=None))
    return len(most_urgent)


async def earliest(context: ServiceContext) -> datetime | None:
    async with context.uow() as uow:
        return await next_due(uow)


async def send_due(context: ServiceContext, now: datetime, *, batch: int = SWEEP_BATCH) -> None:
    """Send every reminder due at ``now``, ``batch`` occurrences a committed transaction."""
    while True:
        async with context.uow() as uow:
            claimed = await sweep(uow, now, batch=batch)
            await uow.commit()
        if claimed < batch:
            return


REMINDERS = Deadlines(
    "reminders",
    next_due=earliest,
    sweep=send_due,
    max_sleep=lambda settings: PlansSettings.of(settings).plans_scheduler_max_sleep,
)


async def replan_on_start(context: ServiceContext) -> None:
    """The service's start-up worker: re-plan the plans whose reminders were planned under other
    settings (each commit wakes the reminder scheduler)."""
    policy = ReminderPolicy.of(context.settings)
    async with context.uow() as uow:
        stale = await plans_to_replan(uow, policy)
    for plan_id in stale:
        async with context.uow() as uow:
            if await replan(uow, plan_id, policy, context.clock.now()):
                await uow.commit()
