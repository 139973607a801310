"""What a unit-scoped principal sees of plans (shared/scope.py): the conditions the queries add.

- Units and unit groups: the units in scope; the groups owned by one (the registry itself is
  changed by whole-system principals only, since every scope is read in it).
- Plans: those issued by a unit in scope, and those in which a unit in scope owes something
  (leads or coordinates a task); their text, tree and targets with them.
- Obligations, occurrences and progress: those of units in scope; in the tree of a plan issued
  outside the scope, only those.
- Changing a plan (its nodes, targets, publication): its issuer must lie in scope (a plan one
  only owes tasks of is seen, not edited: 403); reporting progress: the obligation's unit.

Out of scope is absent: 404 ``not_found``, or ``NOT_FOUND`` / null in GraphQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.models import Obligation, Occurrence, Plan, PlanNode, Target, UnitGroup
from shared.problems import Forbidden, NotFound
from shared.scope import Scope


def plan_visible(scope: Scope) -> ColumnElement[bool]:
    """A plan issued by a unit in scope, or one in which a unit in scope owes something."""
    if scope.whole_system:
        return true()
    owes = exists().where(Obligation.plan_id == Plan.id, scope.where(Obligation.unit_code))
    return or_(scope.where(Plan.issuer_code), owes)


def group_visible(scope: Scope) -> ColumnElement[bool]:
    return scope.where(UnitGroup.owner_code)


async def obligations_shown(session: AsyncSession, plan_id: int, scope: Scope) -> ColumnElement[bool]:
    """The obligations of plan ``plan_id`` that ``scope`` sees: all when it issued the plan."""
    issuer = await session.scalar(select(Plan.issuer_code).where(Plan.id == plan_id))
    return true() if scope.allows(issuer) else scope.where(Obligation.unit_code)


async def check_plan(session: AsyncSession, plan_id: int, scope: Scope, *, change: bool = False) -> None:
    """404 for a plan out of ``scope``; 403 for a change to a plan ``scope`` sees but did not issue."""
    if scope.whole_system:
        return
    issuer = await session.scalar(select(Plan.issuer_code).where(Plan.id == plan_id, plan_visible(scope)))
    if issuer is None:
        raise NotFound(f"No plan with id {plan_id}.")
    if change and not scope.allows(issuer):
        raise Forbidden(
            f"Plan {plan_id} is issued by {issuer}, outside your scope: it is yours to read, not to change."
        )


async def check_node(session: AsyncSession, node_id: int, scope: Scope) -> None:
    """A node is changed by those who may change its plan."""
    if scope.whole_system:
        return
    plan_id = await session.scalar(select(PlanNode.plan_id).where(PlanNode.id == node_id))
    if plan_id is None:
        raise NotFound(f"No node with id {node_id}.")
    try:
        await check_plan(session, plan_id, scope, change=True)
    except NotFound:
        raise NotFound(f"No node with id {node_id}.") from None


async def check_target(session: AsyncSession, target_id: int, scope: Scope, *, change: bool = False) -> None:
    if scope.whole_system:
        return
    plan_id = await session.scalar(select(Target.plan_id).where(Target.id == target_id))
    if plan_id is None:
        raise NotFound(f"No target with id {target_id}.")
    try:
        await check_plan(session, plan_id, scope, change=change)
    except NotFound:
        raise NotFound(f"No target with id {target_id}.") from None


async def check_obligation(session: AsyncSession, obligation_id: int, scope: Scope) -> None:
    await _check_unit_of(session, Obligation, obligation_id, scope, f"No obligation with id {obligation_id}.")


async def check_occurrence(session: AsyncSession, occurrence_id: int, scope: Scope) -> None:
    await _check_unit_of(
        session, Occurrence, occurrence_id, scope, f"Không có lần đến hạn nào mang mã {occurrence_id}."
    )


async def _check_unit_of(session: AsyncSession, model: Any, key: int, scope: Scope, absent: str) -> None:
    if scope.whole_system:
        return
    found = await session.scalar(select(model.id).where(model.id == key, scope.where(model.unit_code)))
    if found is None:
        raise NotFound(absent)
