"""Progress of one obligation, with optimistic concurrency, and its roll-up (no HTTP, no commits)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.events import TaskCompleted
from services.plans.models import Obligation, Occurrence, Plan
from services.plans.planning import roll_up
from services.plans.reminders import cancel_reminders
from services.plans.schemas import PlanStatus, ProgressIn, ProgressStatus
from shared.clock import VN_TZ
from shared.problems import Conflict, DomainError, NotFound
from shared.uow import UnitOfWork


async def get_obligation(session: AsyncSession, obligation_id: int) -> Obligation:
    obligation = await session.get(Obligation, obligation_id)
    if obligation is None:
        raise NotFound(f"No obligation with id {obligation_id}.")
    return obligation


async def report_progress(uow: UnitOfWork, obligation_id: int, data: ProgressIn) -> Obligation:
    """Record a unit's progress on one obligation; the first report of ``done`` completes it
    (percent 100, completion date, on-time flag, ``task.completed``, no more reminders).

    ``data.version`` must be the obligation's current version: a report based on a stale read
    is refused with 409, whoever wrote in between.
    """
    session = uow.session
    obligation = await get_obligation(session, obligation_id)
    plan = await session.get(Plan, obligation.plan_id)
    if plan is not None and plan.status == PlanStatus.closed:
        raise Conflict(f"Plan {plan.id} is closed; its progress can no longer change.")
    if data.version != obligation.version:
        raise Conflict(
            f"Obligation {obligation_id} changed since version {data.version} (now {obligation.version}); reload and retry.",
            errors=[{"field": "version", "message": f"stale: current version is {obligation.version}"}],
            current_version=obligation.version,
        )
    today = uow.clock.now().astimezone(VN_TZ).date()
    status = data.status or _implied_status(obligation, data.percent)
    if obligation.status == ProgressStatus.done and status != ProgressStatus.done:
        raise Conflict(
            "A done obligation stays done: its completion has been announced.",
            errors=[{"field": "status", "message": "already done"}],
        )
    percent = (
        100.0 if status == ProgressStatus.done else data.percent if data.percent is not None else obligation.percent
    )
    if status != ProgressStatus.done and percent >= 100 and data.percent is not None:
        raise DomainError(
            "100 % means done: report status done.", errors=[{"field": "percent", "message": "use status done for 100"}]
        )
    completing = status == ProgressStatus.done and obligation.status != ProgressStatus.done
    if data.completed_on is not None and status != ProgressStatus.done:
        raise DomainError(
            "Only a done obligation has a completion date.",
            errors=[{"field": "completed_on", "message": "needs status done"}],
        )
    if data.completed_on is not None and data.completed_on > today:
        raise DomainError(
            "A completion date cannot be in the future.", errors=[{"field": "completed_on", "message": "after today"}]
        )
    changes: dict[str, object] = {
        "status": status.value,
        "percent": percent,
        "version": obligation.version + 1,
        "updated_at": uow.clock.now(),
    }
    if data.note is not None:
        changes["note"] = data.note
    if data.evidence is not None:
        changes["evidence"] = [str(link) for link in data.evidence]
    if status == ProgressStatus.done:
        completed_on = data.completed_on or obligation.completed_on or today
        changes["completed_on"] = completed_on
        changes["on_time"] = None if obligation.due is None else completed_on <= obligation.due
    written = await session.execute(
        update(Obligation)
        .where(Obligation.id == obligation_id, Obligation.version == data.version)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:  # another writer won between our read and this write
        raise Conflict(
            f"Obligation {obligation_id} changed meanwhile; reload and retry.",
            errors=[{"field": "version", "message": "stale"}],
        )
    await session.refresh(obligation)
    if completing:
        await _complete(uow, obligation, obligation.completed_on or today)
    await roll_up(session, obligation.plan_id, uow.clock.now())
    return obligation


def _implied_status(obligation: Obligation, percent: float | None) -> ProgressStatus:
    if percent is None:
        return ProgressStatus(obligation.status)
    return ProgressStatus.in_progress if percent > 0 else ProgressStatus.not_started


async def _complete(uow: UnitOfWork, obligation: Obligation, completed_on: date) -> None:
    await uow.session.execute(
        update(Occurrence)
        .where(Occurrence.obligation_id == obligation.id, Occurrence.done_on.is_(None))
        .values(done_on=completed_on)
    )
    await cancel_reminders(uow, obligation_id=obligation.id)
    uow.emit(
        TaskCompleted(
            obligation_id=obligation.id,
            task_id=obligation.node_id,
            plan_id=obligation.plan_id,
            unit_code=obligation.unit_code,
            role=obligation.role,
            completed_at=completed_on,
            due=obligation.due,
            on_time=obligation.on_time,
        )
    )
