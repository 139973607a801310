"""Targets (chỉ tiêu) of plans: set by an officer, or suggested by an import and confirmed (no HTTP, no commits)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.events import TargetSet
from services.plans.models import Plan, PlanNode, Target
from services.plans.planning import get_plan
from services.plans.schemas import NodeKind, TargetIn, TargetStatus, TargetUpdate
from shared.audit import changed
from shared.db import get_or_404
from shared.problems import Conflict, DomainError
from shared.uow import UnitOfWork

_TARGETABLE = {NodeKind.area.value, NodeKind.objective.value, NodeKind.task.value}


async def get_target(session: AsyncSession, target_id: int) -> Target:
    return await get_or_404(session, Target, target_id, f"No target with id {target_id}.")


async def list_targets(session: AsyncSession, plan_id: int, *, status: TargetStatus | None = None) -> Sequence[Target]:
    await get_plan(session, plan_id)
    query = select(Target).where(Target.plan_id == plan_id).order_by(Target.id)
    if status is not None:
        query = query.where(Target.status == status)
    return (await session.scalars(query)).all()


async def set_target(uow: UnitOfWork, plan_id: int, data: TargetIn) -> Target:
    """A confirmed target of the plan or of one of its areas, objectives or tasks."""
    plan = await get_plan(uow.session, plan_id)
    await _check_node(uow.session, plan_id, data.node_id)
    now = uow.clock.now()
    target = Target(
        plan_id=plan_id, **data.model_dump(), status=TargetStatus.confirmed, version=1, created_at=now, updated_at=now
    )
    uow.session.add(target)
    await uow.session.flush()
    uow.audit("target.set", "target", target.id, {"plan_id": plan_id, **data.model_dump()})
    _announce(uow, plan, target)
    return target


async def update_target(uow: UnitOfWork, target_id: int, data: TargetUpdate) -> Target:
    """Change a target (a suggestion stays a suggestion until confirmed); stale version → 409."""
    target = await get_target(uow.session, target_id)
    _check_version(target, data.version)
    await _check_node(uow.session, target.plan_id, data.node_id)
    values = data.model_dump(exclude={"version"})
    uow.audit("target.changed", "target", target_id, changed({k: getattr(target, k) for k in values}, values))
    for key, value in values.items():
        setattr(target, key, value)
    target.version += 1
    target.updated_at = uow.clock.now()
    await uow.session.flush()
    if target.status == TargetStatus.confirmed:
        _announce(uow, await get_plan(uow.session, target.plan_id), target)
    return target


async def confirm_target(uow: UnitOfWork, target_id: int, version: int) -> Target:
    """An officer accepts a suggested target: it becomes a target and is published."""
    target = await get_target(uow.session, target_id)
    _check_version(target, version)
    if target.status == TargetStatus.confirmed:
        raise Conflict(f"Target {target_id} is already confirmed.")
    if target.metric_code is None:
        raise DomainError(
            "The suggestion names no metric: set its metric_code (PUT) before confirming it.",
            errors=[{"field": "metric_code", "message": "required to confirm"}],
        )
    uow.audit("target.confirmed", "target", target_id, {"status": [target.status, TargetStatus.confirmed]})
    target.status = TargetStatus.confirmed
    target.version += 1
    target.updated_at = uow.clock.now()
    await uow.session.flush()
    _announce(uow, await get_plan(uow.session, target.plan_id), target)
    return target


async def delete_target(uow: UnitOfWork, target_id: int) -> None:
    """Discard a suggestion, or withdraw a target."""
    target = await get_target(uow.session, target_id)
    await uow.session.execute(delete(Target).where(Target.id == target_id))
    uow.audit("target.deleted", "target", target_id, {"status": [target.status, None], "plan_id": target.plan_id})


def _check_version(target: Target, version: int) -> None:
    if version != target.version:
        raise Conflict(
            f"Target {target.id} changed since version {version} (now {target.version}); reload and retry.",
            errors=[{"field": "version", "message": f"stale: current version is {target.version}"}],
        )


async def _check_node(session: AsyncSession, plan_id: int, node_id: int | None) -> None:
    if node_id is None:
        return
    node = await session.get(PlanNode, node_id)
    if node is None or node.plan_id != plan_id or node.kind not in _TARGETABLE:
        raise DomainError(
            "A target belongs to the plan, or to one of its areas, objectives or tasks.",
            errors=[{"field": "node_id", "message": "not an area, objective or task of this plan"}],
        )


def _announce(uow: UnitOfWork, plan: Plan, target: Target) -> None:
    uow.emit(
        TargetSet(
            target_id=target.id,
            plan_id=plan.id,
            node_id=target.node_id,
            issuer_code=plan.issuer_code,
            metric_code=target.metric_code or "",
            operator=target.operator,
            value=target.value,
            unit=target.unit,
            strict=target.strict,
            level=target.level,
            period=target.period,
            version=target.version,
        )
    )
