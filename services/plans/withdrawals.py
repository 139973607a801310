"""Withdrawing obligations a unit no longer owes (no HTTP, no commits).

An obligation is withdrawn when its unit left the group it owed it through, when a revised table
no longer names the unit for its task, or when a revision removed the task. What was reported
stays (the history is kept); its pending reminders are cancelled, it leaves the "owes", "overdue"
lists and the roll-up, and ``task.withdrawn`` tells the other services (scoring stops counting its
open occurrences).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from services.plans.events import TaskWithdrawn
from services.plans.models import Obligation, Occurrence
from services.plans.reminders import cancel_reminders
from services.plans.schemas import ProgressStatus
from shared.uow import UnitOfWork

LEFT_GROUP = "left_group"
UNIT_REMOVED = "unit_removed"
TASK_REMOVED = "task_removed"


async def withdraw(uow: UnitOfWork, obligations: Sequence[Obligation], reason: str) -> None:
    """Withdraw these (live) obligations now, for ``reason``."""
    if not obligations:
        return
    now = uow.clock.now()
    for obligation in obligations:
        obligation.withdrawn_at = now
        obligation.version += 1
        obligation.updated_at = now
    ids = [o.id for o in obligations]
    await uow.session.flush()
    await cancel_reminders(uow, obligation_ids=ids)
    open_occurrences: dict[int, list[int]] = defaultdict(list)
    for obligation_id, occurrence_id in await uow.session.execute(
        select(Occurrence.obligation_id, Occurrence.id)
        .where(Occurrence.obligation_id.in_(ids), Occurrence.status != ProgressStatus.done)
        .order_by(Occurrence.id)
    ):
        open_occurrences[obligation_id].append(occurrence_id)
    for obligation in obligations:
        uow.emit(
            TaskWithdrawn(
                obligation_id=obligation.id,
                task_id=obligation.node_id,
                plan_id=obligation.plan_id,
                unit_code=obligation.unit_code,
                role=obligation.role,
                reason=reason,
                withdrawn_at=now,
                open_occurrence_ids=open_occurrences[obligation.id],
            )
        )
