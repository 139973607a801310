"""Changing a node's schedule or the parent plan's task it implements, and the cascade of
deadlines down to the child plans' tasks (no HTTP, no commits).

When a node's due dates move, its obligations' occurrences move with them (see
``occurrences.follow_dues``), pending reminders planned for the old dates are dropped and the new
ones planned, and ``task.rescheduled`` says so. Then every task of a child plan (draft or
published) that implements it is brought in line: one without a date of its own follows the new
deadline; one with its own dates keeps those not later than the new deadline, and the later ones
are brought back to it. Their own child tasks follow in turn.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from services.plans.deadlines import (
    as_stored,
    check_within,
    deadline_of,
    effective_dues,
    implemented_task,
    stored_own_dues,
)
from services.plans.events import ObligationMoves, OccurrenceMove, TaskRescheduled
from services.plans.models import Obligation, Occurrence, Plan, PlanNode
from services.plans.occurrences import follow_dues
from services.plans.planning import find_node, get_plan, plan_tree, roll_up
from services.plans.reminders import drop_stale_reminders, plan_reminders
from services.plans.schedules import due_dates, parse_schedule
from services.plans.schemas import NodeOut, NodeUpdate, PlanStatus, Role
from shared import audit
from shared.db import get_or_404
from shared.problems import Conflict
from shared.uow import UnitOfWork

EDITED = "edited"
PARENT_CHANGED = "parent_changed"
REVISED = "revised"


async def change_node(uow: UnitOfWork, node_id: int, data: NodeUpdate) -> NodeOut:
    """Give a node a new schedule and/or a new link to the parent plan's task it implements.

    Its own due dates may not be later than the implemented task's deadline (422 naming
    ``schedule``, or ``implements_id`` when only the link changed). A closed plan is not changed.
    """
    session = uow.session
    node = await get_or_404(session, PlanNode, node_id, f"Không có mục nào của kế hoạch mang mã {node_id}.")
    plan = await get_plan(session, node.plan_id)
    if plan.status == PlanStatus.closed:
        raise Conflict(f"Kế hoạch {plan.id} đã kết thúc; không sửa được nữa.")
    if node.removed_at is not None:
        raise Conflict(f"Mục {node.id} đã bị bỏ khỏi kế hoạch khi sửa đổi; không sửa được nữa.")
    changed = data.model_fields_set
    text = (data.schedule or None) if "schedule" in changed else node.schedule_raw
    parsed = parse_schedule(text, plan.year) if text else None
    implements_id = data.implements_id if "implements_id" in changed else node.implements_id
    implements = None
    if implements_id is not None:
        implements = await implemented_task(session, plan, implements_id, kind=node.kind)
    deadline = deadline_of(implements) if implements is not None else None
    own = due_dates(parsed, plan.year)
    check_within(own, deadline, field="schedule" if "schedule" in changed else "implements_id")
    before = {"schedule": node.schedule_raw, "implements_id": node.implements_id}
    after = {"schedule": text, "implements_id": implements_id}
    uow.audit("plan.node_changed", "plan_node", node.id, {"plan_id": plan.id, **audit.changed(before, after)})
    node.schedule_raw = text
    node.schedule_kind = parsed.kind.value if parsed else None
    node.schedule = parsed.to_json() if parsed else None
    node.implements_id = implements_id
    await cascade(uow, [(node, effective_dues(own, deadline))])
    return find_node(await plan_tree(session, plan.id), node.id)


async def cascade(uow: UnitOfWork, moves: Sequence[tuple[PlanNode, list[date]]], *, reason: str = EDITED) -> list[int]:
    """Move each node to its dues (``reason`` says why), then the child plans' tasks implementing
    them, level by level; the ids of the nodes whose dates moved."""
    session = uow.session
    queue: deque[tuple[PlanNode, list[date], str]] = deque((node, dues, reason) for node, dues in moves)
    seen: set[int] = set()
    plans: set[int] = set()
    while queue:
        current, wanted, why = queue.popleft()
        before = [date.fromisoformat(d) for d in current.dues]
        if current.id in seen or wanted == before:
            continue
        seen.add(current.id)
        current.dues = as_stored(wanted)
        moved = await _move(uow, current, wanted)
        await _announce(uow, current, before, wanted, why, moved)
        plans.add(current.plan_id)
        deadline = wanted[-1] if wanted else None
        children = await session.execute(
            select(PlanNode, Plan.year)
            .join(Plan, Plan.id == PlanNode.plan_id)
            .where(PlanNode.implements_id == current.id, Plan.status != PlanStatus.closed)
            .order_by(PlanNode.id)
        )
        for child, year in children:
            queue.append((child, effective_dues(stored_own_dues(child, year), deadline), PARENT_CHANGED))
    for plan_id in sorted(plans):
        await roll_up(session, plan_id, uow.clock.now())
    return sorted(seen)


async def _move(uow: UnitOfWork, node: PlanNode, dues: list[date]) -> list[ObligationMoves]:
    """The node's obligations follow its new dates, and so do their pending reminders; what moved."""
    session = uow.session
    now = uow.clock.now()
    obligations = (await session.scalars(select(Obligation).where(Obligation.node_id == node.id))).all()
    ids = [o.id for o in obligations]
    before = await _occurrence_dues(uow, ids)
    await follow_dues(session, obligations, dues, now)
    after = await _occurrence_dues(uow, ids)
    await drop_stale_reminders(uow, list(after))
    await plan_reminders(uow, await get_plan(session, node.plan_id), [Obligation.node_id == node.id], after=now)
    owner = {k: obligation_id for k, (obligation_id, _) in (before | after).items()}
    old = {k: due for k, (_, due) in before.items()}
    new = {k: due for k, (_, due) in after.items()}
    moves: list[ObligationMoves] = []
    for obligation in obligations:
        changed = [
            OccurrenceMove(occurrence_id=k, old_due=old.get(k), new_due=new.get(k))
            for k in sorted(owner)
            if owner[k] == obligation.id and old.get(k) != new.get(k)
        ]
        if changed and obligation.withdrawn_at is None:
            moves.append(
                ObligationMoves(
                    obligation_id=obligation.id,
                    unit_code=obligation.unit_code,
                    role=obligation.role,
                    occurrences=changed,
                )
            )
    return moves


async def _occurrence_dues(uow: UnitOfWork, obligation_ids: Sequence[int]) -> dict[int, tuple[int, date]]:
    """Occurrence id → (obligation id, due date) of these obligations, as the database has them."""
    await uow.session.flush()
    rows = await uow.session.execute(
        select(Occurrence.id, Occurrence.obligation_id, Occurrence.due).where(
            Occurrence.obligation_id.in_(obligation_ids)
        )
    )
    return {occurrence_id: (obligation_id, due) for occurrence_id, obligation_id, due in rows}


async def _announce(
    uow: UnitOfWork, node: PlanNode, before: list[date], after: list[date], reason: str, moves: list[ObligationMoves]
) -> None:
    owing = (
        await uow.session.execute(
            select(Obligation.unit_code, Obligation.role)
            .where(Obligation.node_id == node.id, Obligation.withdrawn_at.is_(None))
            .distinct()
            .order_by(Obligation.unit_code)
        )
    ).all()
    uow.emit(
        TaskRescheduled(
            task_id=node.id,
            plan_id=node.plan_id,
            implements_id=node.implements_id,
            reason=reason,
            old_due=before[-1] if before else None,
            new_due=after[-1] if after else None,
            dues=after,
            unit_codes=list(dict.fromkeys(code for code, _ in owing)),
            old_dues=before,
            lead_unit_codes=[code for code, role in owing if role == Role.lead],
            obligations=moves,
        )
    )
