"""Progress of obligations and of their occurrences, with optimistic concurrency, and its roll-up
(no HTTP, no commits).

An obligation with one due date (or none) is reported on as a whole; a recurring duty is reported
occurrence by occurrence, and the obligation is the roll-up of its occurrences (see
``occurrences.refresh_obligations``). Either report carries the version its reporter read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.events import TaskCompleted
from services.plans.models import Obligation, Occurrence, Plan
from services.plans.occurrences import refresh_obligations
from services.plans.planning import roll_up
from services.plans.reminders import cancel_reminders
from services.plans.schemas import PlanStatus, ProgressIn, ProgressStatus
from services.plans.visibility import check_obligation
from shared.clock import VN_TZ
from shared.db import get_or_404, rowcount
from shared.problems import Conflict, DomainError
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork

_PROGRESS_FIELDS = ("status", "percent", "completed_on")


class ReportPerOccurrence(DomainError):
    """A recurring duty's status and percent are reported per occurrence."""

    status = 422
    code = "report_per_occurrence"


@dataclass(frozen=True)
class _Outcome:
    """What a report makes of a progress record (an obligation's or an occurrence's)."""

    status: ProgressStatus
    percent: float
    completed_on: date | None
    on_time: bool | None
    completing: bool


async def get_obligation(session: AsyncSession, obligation_id: int) -> Obligation:
    return await get_or_404(session, Obligation, obligation_id, f"No obligation with id {obligation_id}.")


async def get_occurrence(session: AsyncSession, occurrence_id: int) -> Occurrence:
    return await get_or_404(session, Occurrence, occurrence_id, f"Không có lần đến hạn nào mang mã {occurrence_id}.")


async def list_occurrences(
    session: AsyncSession, obligation_id: int, scope: Scope = WHOLE_SYSTEM
) -> Sequence[Occurrence]:
    await check_obligation(session, obligation_id, scope)
    await get_obligation(session, obligation_id)
    query = select(Occurrence).where(Occurrence.obligation_id == obligation_id).order_by(Occurrence.due)
    return (await session.scalars(query)).all()


async def report_progress(uow: UnitOfWork, obligation_id: int, data: ProgressIn) -> Obligation:
    """Record a unit's progress on one obligation; the first report of ``done`` completes it
    (percent 100, completion date, on-time flag, ``task.completed``, no more reminders).

    An obligation with several occurrences (a recurring duty) takes only notes and evidence here:
    its status and percent come from its occurrences (422 ``report_per_occurrence``). One with a
    single occurrence carries its report over to it. ``data.version`` must be the obligation's
    current version: a report based on a stale read is refused with 409, whoever wrote in between.
    """
    session = uow.session
    obligation = await get_obligation(session, obligation_id)
    await _check_open(session, obligation)
    _check_version(f"Obligation {obligation_id}", obligation.version, data.version)
    occurrences = (await session.scalars(select(Occurrence).where(Occurrence.obligation_id == obligation_id))).all()
    touched = [f for f in _PROGRESS_FIELDS if getattr(data, f) is not None]
    if len(occurrences) > 1 and touched:
        raise ReportPerOccurrence(
            "Nhiệm vụ định kỳ: báo cáo tiến độ theo từng lần đến hạn (PATCH /plans/v1/occurrences/{id}).",
            errors=[{"field": f, "message": "báo cáo theo từng lần đến hạn"} for f in touched],
            occurrence_ids=[o.id for o in occurrences],
        )
    outcome = _assess(obligation.status, obligation.percent, obligation.completed_on, obligation.due, data, _today(uow))
    changes = {
        "status": outcome.status.value,
        "percent": outcome.percent,
        "completed_on": outcome.completed_on,
        "on_time": outcome.on_time,
        "version": obligation.version + 1,
        "updated_at": uow.clock.now(),
        **_notes(data),
    }
    if len(occurrences) > 1:  # a note on a recurring duty: its progress stays its occurrences'
        for key in ("status", "percent", "completed_on", "on_time"):
            changes.pop(key)
    written = await session.execute(
        update(Obligation)
        .where(Obligation.id == obligation_id, Obligation.version == data.version)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if rowcount(written) != 1:  # another writer won between our read and this write
        raise _stale(f"Obligation {obligation_id}")
    occurrence = occurrences[0] if len(occurrences) == 1 else None
    if occurrence is not None:
        await _write_occurrence(uow, occurrence, outcome, data)
    await session.refresh(obligation)
    if outcome.completing:
        await _announce(uow, obligation, occurrence, outcome)
    await roll_up(session, obligation.plan_id, uow.clock.now())
    return obligation


async def report_occurrence(uow: UnitOfWork, occurrence_id: int, data: ProgressIn) -> Occurrence:
    """Record progress on one occurrence of an obligation (one month of a monthly report...);
    the obligation is rolled up from its occurrences. The first ``done`` of an occurrence stops
    its reminders (the others keep theirs) and announces ``task.completed`` with the occurrence
    and whether it was on time. ``data.version`` is the occurrence's version (409 when stale).
    """
    session = uow.session
    occurrence = await get_occurrence(session, occurrence_id)
    obligation = await get_obligation(session, occurrence.obligation_id)
    await _check_open(session, obligation)
    _check_version(f"Occurrence {occurrence_id}", occurrence.version, data.version)
    outcome = _assess(occurrence.status, occurrence.percent, occurrence.done_on, occurrence.due, data, _today(uow))
    # Reports on several occurrences of one obligation queue on the obligation's row (same order
    # as report_progress: obligation, then occurrence), so each roll-up reads the others' results.
    await session.execute(select(Obligation.id).where(Obligation.id == obligation.id).with_for_update())
    await _write_occurrence(uow, occurrence, outcome, data, version=data.version)
    await refresh_obligations(session, [obligation.id], uow.clock.now())
    await session.refresh(obligation)
    await session.refresh(occurrence)
    if outcome.completing:
        await _announce(uow, obligation, occurrence, outcome)
    await roll_up(session, obligation.plan_id, uow.clock.now())
    return occurrence


async def _check_open(session: AsyncSession, obligation: Obligation) -> None:
    plan = await session.get(Plan, obligation.plan_id)
    if plan is not None and plan.status == PlanStatus.closed:
        raise Conflict(f"Plan {plan.id} is closed; its progress can no longer change.")
    if obligation.withdrawn_at is not None:
        raise Conflict(
            f"Đơn vị {obligation.unit_code} đã rời nhóm được giao nhiệm vụ này; tiến độ không còn thay đổi.",
            errors=[{"field": "obligation_id", "message": "đơn vị đã rời nhóm"}],
        )


def _check_version(what: str, current: int, read: int) -> None:
    if read != current:
        raise Conflict(
            f"{what} changed since version {read} (now {current}); reload and retry.",
            errors=[{"field": "version", "message": f"stale: current version is {current}"}],
            current_version=current,
        )


def _stale(what: str) -> Conflict:
    return Conflict(f"{what} changed meanwhile; reload and retry.", errors=[{"field": "version", "message": "stale"}])


def _today(uow: UnitOfWork) -> date:
    return uow.clock.now().astimezone(VN_TZ).date()


def _notes(data: ProgressIn) -> dict[str, object]:
    changes: dict[str, object] = {}
    if data.note is not None:
        changes["note"] = data.note
    if data.evidence is not None:
        changes["evidence"] = [str(link) for link in data.evidence]
    return changes


def _assess(
    status_now: str, percent_now: float, completed_now: date | None, due: date | None, data: ProgressIn, today: date
) -> _Outcome:
    """The state a report leads to, or the rule it breaks: a done record stays done, 100 % means
    done, only a done record has a completion date, never in the future."""
    current = ProgressStatus(status_now)
    status = data.status or _implied_status(current, data.percent)
    if current == ProgressStatus.done and status != ProgressStatus.done:
        raise Conflict(
            "A done obligation stays done: its completion has been announced.",
            errors=[{"field": "status", "message": "already done"}],
        )
    if status != ProgressStatus.done and data.percent is not None and data.percent >= 100:
        raise DomainError(
            "100 % means done: report status done.", errors=[{"field": "percent", "message": "use status done for 100"}]
        )
    if data.completed_on is not None and status != ProgressStatus.done:
        raise DomainError(
            "Only a done obligation has a completion date.",
            errors=[{"field": "completed_on", "message": "needs status done"}],
        )
    if data.completed_on is not None and data.completed_on > today:
        raise DomainError(
            "A completion date cannot be in the future.", errors=[{"field": "completed_on", "message": "after today"}]
        )
    if status != ProgressStatus.done:
        percent = data.percent if data.percent is not None else percent_now
        return _Outcome(status, percent, None, None, completing=False)
    completed_on = data.completed_on or completed_now or today
    on_time = None if due is None else completed_on <= due
    return _Outcome(status, 100.0, completed_on, on_time, completing=current != ProgressStatus.done)


def _implied_status(current: ProgressStatus, percent: float | None) -> ProgressStatus:
    if percent is None:
        return current
    return ProgressStatus.in_progress if percent > 0 else ProgressStatus.not_started


async def _write_occurrence(
    uow: UnitOfWork, occurrence: Occurrence, outcome: _Outcome, data: ProgressIn, *, version: int | None = None
) -> None:
    """Write an occurrence's new state; with ``version``, only if it is still the current one."""
    condition = [Occurrence.id == occurrence.id]
    if version is not None:
        condition.append(Occurrence.version == version)
    written = await uow.session.execute(
        update(Occurrence)
        .where(*condition)
        .values(
            status=outcome.status.value,
            percent=outcome.percent,
            done_on=outcome.completed_on,
            on_time=outcome.on_time,
            version=Occurrence.version + 1,
            updated_at=uow.clock.now(),
            **_notes(data),
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(written) != 1:
        raise _stale(f"Occurrence {occurrence.id}")


async def _announce(uow: UnitOfWork, obligation: Obligation, occurrence: Occurrence | None, outcome: _Outcome) -> None:
    """An occurrence (or an obligation without one) was done: no more reminders for it, and
    ``task.completed``."""
    assert outcome.completed_on is not None
    if occurrence is not None:
        await cancel_reminders(uow, occurrence_ids=[occurrence.id])
    uow.emit(
        TaskCompleted(
            obligation_id=obligation.id,
            task_id=obligation.node_id,
            plan_id=obligation.plan_id,
            unit_code=obligation.unit_code,
            role=obligation.role,
            completed_at=outcome.completed_on,
            due=occurrence.due if occurrence is not None else obligation.due,
            on_time=outcome.on_time,
            occurrence_id=occurrence.id if occurrence is not None else None,
            obligation_done=obligation.status == ProgressStatus.done,
        )
    )
