"""Obligations follow the groups plans name (no HTTP, no commits).

A node that names a group ("UBND các xã, thị trấn") owes through every member of it. When a group's
members change (the group is redefined, or a unit joins or leaves it by its level rule, or a unit's
validity changes), the obligations of draft and published plans follow: a new member gets an
obligation with the dates still ahead (a draft's: all of them) and its reminders; a member that
left keeps its obligation and what it reported, marked withdrawn, and gets no more reminders; one
that comes back is owed again. Obligations a cell named directly are never touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlalchemy import select

from services.plans.groups import resolve_groups, valid_in
from services.plans.models import NodeGroup, Obligation, Plan, PlanNode, Unit, UnitGroup
from services.plans.occurrences import NewObligation, insert_obligations
from services.plans.planning import roll_up
from services.plans.reminders import plan_reminders
from services.plans.schemas import PlanStatus
from services.plans.withdrawals import LEFT_GROUP, withdraw
from shared.clock import VN_TZ
from shared.uow import UnitOfWork

_FOLLOWING = (PlanStatus.draft.value, PlanStatus.published.value)

Key = tuple[int, str]  # (node id, role)


async def follow_groups(uow: UnitOfWork, group_codes: Collection[str]) -> None:
    """Bring the obligations of the nodes naming these groups in line with their members."""
    session = uow.session
    nodes = {
        node.id: (node, plan)
        for node, plan in await session.execute(
            select(PlanNode, Plan)
            .join(Plan, Plan.id == PlanNode.plan_id)
            .where(
                PlanNode.id.in_(select(NodeGroup.node_id).where(NodeGroup.group_code.in_(list(group_codes)))),
                PlanNode.removed_at.is_(None),
                Plan.status.in_(_FOLLOWING),
            )
        )
    }
    if not nodes:
        return
    desired = await _desired(uow, nodes)
    existing: dict[Key, dict[str, Obligation]] = defaultdict(dict)
    for obligation in await session.scalars(select(Obligation).where(Obligation.node_id.in_(list(nodes)))):
        existing[(obligation.node_id, obligation.role)][obligation.unit_code] = obligation
    now = uow.clock.now()
    today = now.astimezone(VN_TZ).date()
    left: list[Obligation] = []
    back: list[int] = []
    new: dict[int, list[NewObligation]] = defaultdict(list)
    changed: dict[int, Plan] = {}
    for key in existing.keys() | desired.keys():
        wanted = desired.get(key, {})
        node, plan = nodes[key[0]]
        for unit, obligation in existing[key].items():
            group = wanted.get(unit)
            if obligation.group_code is None or (group is not None) == (obligation.withdrawn_at is None):
                continue
            changed[plan.id] = plan
            if group is None:
                left.append(obligation)
                continue
            obligation.withdrawn_at, obligation.group_code = None, group
            obligation.version += 1
            obligation.updated_at = now
            back.append(obligation.id)
        for unit, group in wanted.items():
            if unit not in existing[key]:
                new[plan.id].append(NewObligation(node.id, unit, key[1], group, _dues_ahead(node, plan, today)))
                changed[plan.id] = plan
    await session.flush()
    await withdraw(uow, left, LEFT_GROUP)
    for plan in changed.values():
        ids = await insert_obligations(session, plan.id, now, new[plan.id])
        await plan_reminders(uow, plan, [Obligation.id.in_(ids + back)], after=now)
        await roll_up(session, plan.id, now)


async def _desired(uow: UnitOfWork, nodes: dict[int, tuple[PlanNode, Plan]]) -> dict[Key, dict[str, str]]:
    """Per (node, role): each member unit valid in the plan's year, with the first group naming it."""
    session = uow.session
    named = (
        await session.execute(
            select(NodeGroup.node_id, NodeGroup.role, NodeGroup.group_code)
            .where(NodeGroup.node_id.in_(list(nodes)))
            .order_by(NodeGroup.node_id, NodeGroup.role, NodeGroup.group_code)
        )
    ).all()
    groups = (await session.scalars(select(UnitGroup).where(UnitGroup.code.in_({g for _, _, g in named})))).all()
    members = {g.code: g.resolved_members for g in await resolve_groups(session, groups)}
    wanted_units = {code for codes in members.values() for code in codes}
    units = {u.code: u for u in await session.scalars(select(Unit).where(Unit.code.in_(wanted_units)))}
    desired: dict[Key, dict[str, str]] = defaultdict(dict)
    for node_id, role, group in named:
        year = nodes[node_id][1].year
        for code in members.get(group, ()):
            if valid_in(units[code], year):
                desired[(node_id, role)].setdefault(code, group)
    return desired


def _dues_ahead(node: PlanNode, plan: Plan, today: date) -> list[date]:
    """What a new member owes: a published plan's dates from today on, a draft's all."""
    dues = [date.fromisoformat(d) for d in node.dues]
    return dues if plan.status == PlanStatus.draft else [d for d in dues if d >= today]
