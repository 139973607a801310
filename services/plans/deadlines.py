"""Due dates of nodes, and the deadline a node inherits from the parent plan's task it implements.

A child plan's task or activity may name the parent plan's task (or activity) it implements. With
no due date of its own it owes the parent's deadline (its last due date); its own due dates may
not be later than that deadline; and when the parent's deadline moves earlier than some of them,
they are brought back to it (see ``cascade.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.models import Plan, PlanNode
from services.plans.schedules import Schedule, due_dates, parse_schedule
from services.plans.schemas import NodeKind
from shared.problems import DomainError

IMPLEMENTING = (NodeKind.task.value, NodeKind.activity.value)  # kinds that implement, and are implemented


class DeadlineAfterParent(DomainError):
    """A node's own due date is later than the deadline of the task it implements."""

    status = 422
    code = "deadline_after_parent"


def own_dues(schedule_text: str | None, year: int) -> list[date]:
    """The due dates a schedule cell gives a node of a plan of ``year``."""
    return due_dates(parse_schedule(schedule_text, year), year) if schedule_text else []


def stored_own_dues(node: PlanNode, year: int) -> list[date]:
    """The due dates a stored node's own schedule gives it."""
    return due_dates(Schedule.from_json(node.schedule), year) if node.schedule else []


def effective_dues(own: Sequence[date], deadline: date | None) -> list[date]:
    """What a node owes: its own dates, none after ``deadline``; the deadline itself without any."""
    if deadline is None:
        return sorted(set(own))
    if not own:
        return [deadline]
    return sorted({min(due, deadline) for due in own})


def deadline_of(node: PlanNode) -> date | None:
    """A node's deadline: its last due date."""
    return date.fromisoformat(max(node.dues)) if node.dues else None


def as_stored(dues: Sequence[date]) -> list[str]:
    return [due.isoformat() for due in dues]


def check_within(own: Sequence[date], deadline: date | None, *, field: str) -> None:
    """Refuse own due dates later than the implemented task's deadline (422 naming ``field``)."""
    late = [due for due in own if deadline is not None and due > deadline]
    if late and deadline is not None:
        raise DeadlineAfterParent(
            f"Hạn {late[-1]:%d/%m/%Y} muộn hơn hạn {deadline:%d/%m/%Y} "
            "của nhiệm vụ cấp trên mà nhiệm vụ này thực hiện.",
            errors=[{"field": field, "message": f"muộn hơn hạn của nhiệm vụ cấp trên ({deadline:%d/%m/%Y})"}],
            parent_deadline=deadline.isoformat(),
        )


async def implemented_task(session: AsyncSession, plan: Plan, implements_id: int, *, kind: str) -> PlanNode:
    """The parent plan's task or activity a node of ``plan`` of ``kind`` may implement (400 when
    it may not: only a task or an activity implements one)."""
    if kind not in IMPLEMENTING:
        raise DomainError(
            "Chỉ nhiệm vụ hoặc hoạt động mới thực hiện một nhiệm vụ của kế hoạch cấp trên.",
            errors=[{"field": "implements_id", "message": f"không dùng cho {kind}"}],
        )
    task = await session.get(PlanNode, implements_id)
    if plan.parent_id is None or task is None or task.plan_id != plan.parent_id or task.kind not in IMPLEMENTING:
        reason = (
            "kế hoạch này không có kế hoạch cấp trên"
            if plan.parent_id is None
            else "không phải nhiệm vụ hoặc hoạt động của kế hoạch cấp trên"
        )
        raise DomainError(
            "Chỉ liên kết được với một nhiệm vụ hoặc hoạt động của kế hoạch cấp trên.",
            errors=[{"field": "implements_id", "message": reason}],
        )
    return task
