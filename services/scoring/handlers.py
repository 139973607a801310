"""Events the scoring service consumes: the handler table, and the reader models it reads them with
(tolerant readers: extra fields ignored; a payload without the fields needed fails validation and is
dead-lettered by the kernel consumer with the reason)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from services.scoring import ledger
from services.scoring.models import Target, directory, kernel
from services.scoring.periods import PeriodError, parse_period
from services.scoring.rules import SUPPLEMENT_STATUS, TaskState
from shared.api_keys import replica_handlers
from shared.clock import VN_TZ
from shared.consumer import Subscription
from shared.db import upsert
from shared.events import CloudEvent
from shared.units import UnitRecord
from shared.uow import UnitOfWork


class ProcedureIn(BaseModel):
    code: str = ""


class DossierIn(BaseModel):
    """The fields of the dossier events scoring reads (each event has a subset)."""

    ma_ho_so: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    procedure: ProcedureIn | None = None
    channel: int | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None


class ResolvedIn(DossierIn):
    procedure: ProcedureIn
    finished_at: datetime
    supplement_count: int = 0
    paid_online: int | None = None
    has_fees: bool = False
    digitised: int | None = None
    documents_reused: int = 0


class StatusChangedIn(BaseModel):
    ma_ho_so: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    from_status: int | None = None
    to_status: int


class RescheduledIn(BaseModel):
    ma_ho_so: str = Field(min_length=1)
    new_due_at: datetime | None = None


class LetterIssuedIn(BaseModel):
    """``letter.issued`` of notifications: ma_ho_so, letter_id, number, issued_at, new_due_at."""

    ma_ho_so: str = Field(min_length=1)


def _identity(row: dict, data: DossierIn, *, final: bool = False) -> None:
    """Who and what, from any event that says (a resolved event's word is final)."""
    if row["resolved"] and not final:
        return
    row["unit"] = data.unit
    if data.procedure is not None:
        row["procedure"] = data.procedure.code
    if data.channel is not None:
        row["channel"] = data.channel if data.channel in (1, 2, 3) else 1  # empty or unknown counts as 1
    if data.received_at is not None:
        row["received_at"] = data.received_at


def _due(row: dict, due: datetime | None, at: datetime) -> None:
    """The newest due time by event time wins, until the resolved event fixes the judged one."""
    if due is None or row["resolved"] or (row["due_set_at"] is not None and at < row["due_set_at"]):
        return
    row["due_at"], row["due_set_at"] = due, at


async def on_received(uow: UnitOfWork, event: CloudEvent) -> None:
    data = event.data_as(DossierIn)

    def change(row: dict) -> None:
        _identity(row, data)
        _due(row, data.due_at, event.time)

    ledger.change_dossier(uow, data.ma_ho_so, change)


async def on_rescheduled(uow: UnitOfWork, event: CloudEvent) -> None:
    data = event.data_as(RescheduledIn)
    ledger.change_dossier(uow, data.ma_ho_so, lambda row: _due(row, data.new_due_at, event.time))


async def on_overdue(uow: UnitOfWork, event: CloudEvent) -> None:
    """The due time passed with the dossier open: "now" reached it (no polling of open dossiers)."""
    data = event.data_as(DossierIn)

    def change(row: dict) -> None:
        _identity(row, data)
        _due(row, data.due_at, event.time)
        if data.due_at is not None and (row["overdue_due"] is None or data.due_at > row["overdue_due"]):
            row["overdue_due"] = data.due_at

    ledger.change_dossier(uow, data.ma_ho_so, change)


async def on_resolved(uow: UnitOfWork, event: CloudEvent) -> None:
    data = event.data_as(ResolvedIn)

    def change(row: dict) -> None:
        _identity(row, data, final=True)
        row.update(
            resolved=True,
            finished_at=data.finished_at,
            due_at=data.due_at,
            due_set_at=event.time,
            supplements=data.supplement_count,
            has_fees=data.has_fees,
            paid_online=data.paid_online in (1, 2),
            digitised=data.digitised == 1,
            reused=data.documents_reused > 0,
        )

    ledger.change_dossier(uow, data.ma_ho_so, change)


async def on_status_changed(uow: UnitOfWork, event: CloudEvent) -> None:
    """A request for more documents (status 5) counts: more than one makes the dossier late."""
    data = event.data_as(StatusChangedIn)
    if data.to_status != SUPPLEMENT_STATUS or data.from_status == SUPPLEMENT_STATUS:
        return

    def change(row: dict) -> None:
        if row["unit"] is None:
            row["unit"] = data.unit
        row["supplements_seen"] += 1

    ledger.change_dossier(uow, data.ma_ho_so, change)


async def on_letter_issued(uow: UnitOfWork, event: CloudEvent) -> None:
    data = event.data_as(LetterIssuedIn)
    ledger.change_dossier(uow, data.ma_ho_so, lambda row: row.update(apologised=True))


class TaskIn(BaseModel):
    obligation_id: int
    occurrence_id: int | None = None
    unit_code: str = Field(min_length=1)
    role: str
    due: date | None = None


class TaskCompletedIn(TaskIn):
    completed_at: date
    on_time: bool | None = None


def _task_key(data: TaskIn) -> str:
    return f"{data.obligation_id}/{data.occurrence_id if data.occurrence_id is not None else '-'}"


async def on_task_completed(uow: UnitOfWork, event: CloudEvent) -> None:
    data = event.data_as(TaskCompletedIn)

    def change(task: TaskState) -> None:
        task.due, task.completed_on, task.on_time = data.due or task.due, data.completed_at, data.on_time

    await ledger.change_task(uow, _task_key(data), data.unit_code, data.role, change)


async def on_task_overdue(uow: UnitOfWork, event: CloudEvent) -> None:
    """An overdue for a date the occurrence has since moved from (``task.rescheduled`` came first)
    changes nothing."""
    data = event.data_as(TaskIn)

    def change(task: TaskState) -> None:
        if task.due is not None and data.due is not None and data.due < task.due:
            return
        task.overdue, task.due = True, data.due or task.due

    await ledger.change_task(uow, _task_key(data), data.unit_code, data.role, change)


class OccurrenceMoveIn(BaseModel):
    occurrence_id: int
    old_due: date | None = None
    new_due: date | None = None


class ObligationMovesIn(BaseModel):
    obligation_id: int
    unit_code: str = Field(min_length=1)
    role: str
    occurrences: list[OccurrenceMoveIn] = []


class TaskRescheduledIn(BaseModel):
    """``task.rescheduled`` of plans: the occurrences whose due date moved, per obligation."""

    obligations: list[ObligationMovesIn] = []


async def on_task_rescheduled(uow: UnitOfWork, event: CloudEvent) -> None:
    """A moved occurrence counts in the month of its new date (a dropped one nowhere); overdue only
    if its new date had passed too when it moved (else the overdue of the new date will say so); a
    done one is on time again by its new date."""
    data = event.data_as(TaskRescheduledIn)
    today = event.time.astimezone(VN_TZ).date()
    for obligation in data.obligations:
        for move in obligation.occurrences:
            key = f"{obligation.obligation_id}/{move.occurrence_id}"
            await ledger.change_task(uow, key, obligation.unit_code, obligation.role, _moved_to(move.new_due, today))


def _moved_to(due: date | None, today: date) -> Callable[[TaskState], None]:
    def change(task: TaskState) -> None:
        task.due = due
        task.overdue = task.overdue and due is not None and due < today
        if task.completed_on is not None and due is not None:
            task.on_time = task.completed_on <= due

    return change


class TaskWithdrawnIn(BaseModel):
    """``task.withdrawn`` of plans: the unit no longer owes the obligation."""

    obligation_id: int
    unit_code: str = Field(min_length=1)
    role: str
    open_occurrence_ids: list[int] = []


async def on_task_withdrawn(uow: UnitOfWork, event: CloudEvent) -> None:
    """Its occurrences not done count as owed no more (the done ones still count as done)."""
    data = event.data_as(TaskWithdrawnIn)

    def lifted(task: TaskState) -> None:
        task.overdue = False

    for occurrence_id in data.open_occurrence_ids:
        await ledger.change_task(uow, f"{data.obligation_id}/{occurrence_id}", data.unit_code, data.role, lifted)


class TargetIn(BaseModel):
    target_id: int
    plan_id: int
    issuer_code: str = Field(min_length=1)
    metric_code: str = Field(min_length=1)
    operator: str = Field(pattern=r"^(>=|>|<=|<|=)$")
    value: Decimal
    unit: str
    strict: bool = False
    level: str | None = None
    period: str
    version: int = 1


async def on_target_set(uow: UnitOfWork, event: CloudEvent) -> None:
    """Keep the target (a newer version wins) and have the publisher evaluate it."""
    data = event.data_as(TargetIn)
    table = Target.__table__
    values = {**data.model_dump(), "value": float(data.value), "closed": False}
    statement = upsert(uow.session, table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["target_id"],
        set_={k: statement.excluded[k] for k in values if k != "target_id"},
        where=table.c.version < statement.excluded.version,
    )
    await uow.session.execute(statement)
    try:
        period = parse_period(data.period)
    except PeriodError:
        return  # kept and listed; no indicator period to evaluate it against
    await ledger.mark_dirty(uow.session, {(data.issuer_code, period.first)})


async def on_unit_changed(uow: UnitOfWork, new: UnitRecord | None, old: UnitRecord | None) -> None:
    """A unit arrived, moved or left: its subtree's figures now count for other ancestors (no
    drift: the roll-up is computed at query time from each unit's own counters)."""
    code = new.code if new is not None else old.code if old is not None else None
    if code is not None and (old is None or new is None or old.parent_code != new.parent_code):
        await ledger.mark_subtree_dirty(uow.session, code, old.parent_code if old else None)


SUBSCRIPTIONS = [
    Subscription(
        topic="cchc.dossiers",
        handlers={
            "vn.cchc.dossier.received.v1": on_received,
            "vn.cchc.dossier.status_changed.v1": on_status_changed,
            "vn.cchc.dossier.rescheduled.v1": on_rescheduled,
            "vn.cchc.dossier.overdue.v1": on_overdue,
            "vn.cchc.dossier.overdue_after_apology.v1": on_overdue,
            "vn.cchc.dossier.resolved.v1": on_resolved,
        },
        keyed=True,  # each changes only its dossier's state; the counters at commit (ledger)
        lane_by=lambda event: str(event.data.get("unit")),  # a unit's counters written by one lane
    ),
    Subscription(
        topic="cchc.plans",
        handlers={
            **directory.handlers(on_change=on_unit_changed),
            **replica_handlers(kernel.api_keys),
            "vn.cchc.target.set.v1": on_target_set,
            "vn.cchc.task.completed.v1": on_task_completed,
            "vn.cchc.task.overdue.v1": on_task_overdue,
            "vn.cchc.task.rescheduled.v1": on_task_rescheduled,
            "vn.cchc.task.withdrawn.v1": on_task_withdrawn,
        },
    ),
    Subscription(topic="cchc.notifications", handlers={"vn.cchc.letter.issued.v1": on_letter_issued}),
]
