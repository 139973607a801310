"""Plans and their tree: creation, the node writer shared by import and hand entry, publication,
the plan tree, and the weighted roll-up of progress (no HTTP, no commits)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.deadlines import (
    as_stored,
    check_within,
    deadline_of,
    effective_dues,
    implemented_task,
    own_dues,
)
from services.plans.events import PlanCounts, PlanPublished
from services.plans.groups import matcher_for
from services.plans.models import NodeGroup, Obligation, Plan, PlanNode, Target, Unit
from services.plans.occurrences import NewObligation, insert_obligations
from services.plans.reminders import ReminderPolicy, cancel_reminders, plan_reminders
from services.plans.schedules import Schedule, ScheduleKind, due_dates, parse_schedule
from services.plans.schemas import (
    NodeIn,
    NodeKind,
    NodeOut,
    ObligationOut,
    PlanIn,
    PlanOut,
    PlanStatus,
    PlanTree,
    Role,
)
from services.plans.target_suggestions import suggest_targets
from services.plans.textnorm import fold
from services.plans.unit_matching import UnitMatcher
from services.plans.visibility import check_plan, obligations_shown
from shared.db import get_or_404
from shared.problems import Conflict, DomainError
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork

WRITE_BATCH = 500
_NODES = PlanNode.__table__  # Core table: bulk inserts without the ORM's per-row bookkeeping
_MAY_STATE_A_TARGET = re.compile(r"\d")  # every target has a number: skip the parser on text without one
_SUGGESTING = (NodeKind.objective, NodeKind.task)  # targets attach to a plan, area, objective or task


async def create_plan(
    uow: UnitOfWork, data: PlanIn, *, source_name: str | None = None, source_sha256: str | None = None
) -> Plan:
    """A new draft plan; (issuer, year, number) is unique."""
    session = uow.session
    if await session.get(Unit, data.issuer_code) is None:
        raise DomainError(
            f"Issuer {data.issuer_code!r} is not a registered unit.",
            errors=[{"field": "issuer_code", "message": "unknown unit code"}],
        )
    if data.parent_id is not None and await session.get(Plan, data.parent_id) is None:
        raise DomainError(
            f"Parent plan {data.parent_id} does not exist.", errors=[{"field": "parent_id", "message": "unknown plan"}]
        )
    if data.number is not None:
        existing = await session.scalar(
            select(Plan.id).where(
                Plan.issuer_code == data.issuer_code, Plan.year == data.year, Plan.number == data.number
            )
        )
        if existing is not None:
            raise Conflict(
                f"Plan {data.number} of {data.issuer_code} for {data.year} already exists (id {existing}).",
                errors=[{"field": "number", "message": "already used by this issuer this year"}],
                plan_id=existing,
            )
    now = uow.clock.now()
    plan = Plan(
        **data.model_dump(),
        status=PlanStatus.draft,
        source_name=source_name,
        source_sha256=source_sha256,
        progress=0.0,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    await session.flush()
    return plan


async def get_plan(session: AsyncSession, plan_id: int) -> Plan:
    return await get_or_404(session, Plan, plan_id, f"No plan with id {plan_id}.")


async def plan_counts(session: AsyncSession, plan_id: int) -> PlanCounts:
    kinds = dict(
        (
            await session.execute(
                select(PlanNode.kind, func.count()).where(PlanNode.plan_id == plan_id).group_by(PlanNode.kind)
            )
        ).all()
    )
    obligations, units = (
        await session.execute(
            select(func.count(), func.count(func.distinct(Obligation.unit_code))).where(Obligation.plan_id == plan_id)
        )
    ).one()
    targets = await session.scalar(select(func.count()).where(Target.plan_id == plan_id, Target.status == "confirmed"))
    return PlanCounts(
        areas=kinds.get("area", 0),
        objectives=kinds.get("objective", 0),
        tasks=kinds.get("task", 0),
        activities=kinds.get("activity", 0),
        obligations=obligations,
        units=units,
        targets=targets or 0,
    )


async def publish_plan(uow: UnitOfWork, plan_id: int, *, policy: ReminderPolicy) -> Plan:
    """Draft → published: announce it with its counts and start its reminders under ``policy``."""
    plan = await get_plan(uow.session, plan_id)
    if plan.status != PlanStatus.draft:
        raise Conflict(f"Plan {plan_id} is {plan.status}; only a draft can be published.")
    plan.status = PlanStatus.published
    plan.reminder_policy = str(policy)
    plan.version += 1
    plan.updated_at = uow.clock.now()
    await plan_reminders(uow, plan)
    uow.emit(
        PlanPublished(
            plan_id=plan.id,
            issuer_code=plan.issuer_code,
            number=plan.number,
            title=plan.title,
            year=plan.year,
            issued_on=plan.issued_on,
            parent_id=plan.parent_id,
            counts=await plan_counts(uow.session, plan_id),
        )
    )
    return plan


async def close_plan(uow: UnitOfWork, plan_id: int) -> Plan:
    """Published → closed: no more reminders."""
    plan = await get_plan(uow.session, plan_id)
    if plan.status != PlanStatus.published:
        raise Conflict(f"Plan {plan_id} is {plan.status}; only a published plan can be closed.")
    plan.status = PlanStatus.closed
    plan.version += 1
    plan.updated_at = uow.clock.now()
    await cancel_reminders(uow, plan_id=plan_id)
    return plan


# --------------------------------------------------------------------------- writing nodes


@dataclass
class NodeDraft:
    """A node waiting to be written; ``parent`` is a written node's id or another draft."""

    kind: NodeKind
    parent: int | NodeDraft | None
    values: dict[str, Any]
    obligations: list[tuple[str, Role, str | None]] = field(default_factory=list)
    groups: list[tuple[Role, str]] = field(default_factory=list)
    dues: list[date] = field(default_factory=list)
    suggestions_from: str = ""
    id: int | None = None


@dataclass
class WriteTally:
    """What a writer wrote, and what it could not place."""

    nodes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    obligations: int = 0
    targets: int = 0
    schedules: dict[str, int] = field(default_factory=lambda: {"typed": 0, "triggered": 0, "unparsed": 0})
    matched: dict[str, None] = field(default_factory=dict)
    unmatched: dict[str, None] = field(default_factory=dict)


class NodeWriter:
    """Writes the nodes of one plan in batches, each with its obligations (one per member unit of
    a named group), their occurrences (due dates) and suggested targets, using bulk inserts so a
    50,000-row table never lives in memory as ORM objects."""

    def __init__(
        self, uow: UnitOfWork, plan: Plan, matcher: UnitMatcher, members: dict[str, list[str]], *, position: int = 0
    ) -> None:
        self._session = uow.session
        self._now = uow.clock.now()
        self._plan_id = plan.id
        self._year = plan.year
        self._matcher = matcher
        self._members = members
        self._position = position
        self._pending: list[NodeDraft] = []
        self._cells: dict[str, tuple[list[str], list[str], list[str]]] = {}
        self.tally = WriteTally()

    @classmethod
    async def for_plan(cls, uow: UnitOfWork, plan: Plan) -> NodeWriter:
        matcher, members = await matcher_for(uow.session, plan.issuer_code, plan.year)
        position = await uow.session.scalar(select(func.max(PlanNode.position)).where(PlanNode.plan_id == plan.id))
        return cls(uow, plan, matcher, members, position=(position or 0))

    def draft(
        self,
        kind: NodeKind,
        parent: int | NodeDraft | None,
        *,
        title: str,
        label: str | None = None,
        line: int | None = None,
        schedule: str = "",
        lead: str = "",
        coordinating: str = "",
        product: str = "",
        budget_amount: Decimal | int | None = None,
        budget_text: str = "",
        note: str = "",
        weight: float = 1.0,
        implements: PlanNode | None = None,
    ) -> NodeDraft:
        """Queue a node; its cells are read (schedule parsed, agencies matched) at once. A node
        that ``implements`` a parent plan's task owes that task's deadline when it has no date."""
        self._position += 1
        parsed = self._schedule(schedule)
        dues = effective_dues(due_dates(parsed, self._year), deadline_of(implements) if implements else None)
        unmatched: list[str] = []
        obligations: dict[tuple[str, Role], str | None] = {}
        named: list[tuple[Role, str]] = []
        for role, cell in ((Role.lead, lead), (Role.coordinating, coordinating)):
            units, groups, missing = self._match(cell)
            unmatched += missing
            for code in units:
                obligations.setdefault((code, role), None)
            for group in groups:
                named.append((role, group))
                for code in self._members.get(group, ()):
                    obligations.setdefault((code, role), group)
        node = NodeDraft(
            kind=kind,
            parent=parent,
            values={
                "plan_id": self._plan_id,
                "kind": kind.value,
                "label": label or None,
                "title": title,
                "position": self._position,
                "line": line,
                "product": product or None,
                "budget_amount": budget_amount,
                "budget_text": budget_text or None,
                "note": note or None,
                "schedule_raw": schedule or None,
                "schedule_kind": parsed.kind.value if parsed else None,
                "schedule": parsed.to_json() if parsed else None,
                "lead_raw": lead or None,
                "coordinating_raw": coordinating or None,
                "unmatched": list(dict.fromkeys(unmatched)),
                "weight": weight,
                "progress": 0.0,
                "search_text": fold(" ".join(filter(None, (label, title, product)))),
                "implements_id": implements.id if implements else None,
                "dues": as_stored(dues),
            },
            obligations=[(code, role, group) for (code, role), group in obligations.items()],
            groups=list(dict.fromkeys(named)),
            dues=dues,
            suggestions_from="\n".join(filter(None, (title, product))) if kind in _SUGGESTING else "",
        )
        self._pending.append(node)
        return node

    async def flush_if_full(self) -> None:
        if len(self._pending) >= WRITE_BATCH:
            await self.flush()

    async def flush(self) -> None:
        """Write every queued node (parents first), then obligations, occurrences and suggestions."""
        drafts, self._pending = self._pending, []
        waiting = drafts
        while waiting:
            ready = [d for d in waiting if not isinstance(d.parent, NodeDraft) or d.parent.id is not None]
            if not ready:
                raise ValueError("a node's parent was never queued")
            rows = [
                {**d.values, "parent_id": d.parent.id if isinstance(d.parent, NodeDraft) else d.parent} for d in ready
            ]
            written = await self._session.execute(insert(_NODES).returning(_NODES.c.position, _NODES.c.id), rows)
            by_position = {
                position: node_id for position, node_id in written
            }  # position is unique in a plan: no ordering needed
            ids = [by_position[d.values["position"]] for d in ready]
            for draft, node_id in zip(ready, ids, strict=True):
                draft.id = node_id
                self.tally.nodes[draft.kind.value] += 1
            waiting = [d for d in waiting if d.id is None]
        owners = [
            NewObligation(d.id, code, role.value, group, d.dues)
            for d in drafts
            if d.id is not None
            for code, role, group in d.obligations
        ]
        self.tally.obligations += len(await insert_obligations(self._session, self._plan_id, self._now, owners))
        named = [{"node_id": d.id, "role": role.value, "group_code": group} for d in drafts for role, group in d.groups]
        if named:
            await self._session.execute(insert(NodeGroup.__table__), named)
        await self._write_suggestions(drafts)
        for draft in drafts:  # keep only the id: later rows may still name this node as parent
            draft.values, draft.obligations, draft.groups, draft.dues, draft.suggestions_from = {}, [], [], [], ""

    async def _write_suggestions(self, drafts: list[NodeDraft]) -> None:
        rows = []
        for draft in drafts:
            text = draft.suggestions_from
            for s in suggest_targets(text) if _MAY_STATE_A_TARGET.search(text) else ():
                rows.append(
                    {
                        "plan_id": self._plan_id,
                        "node_id": draft.id,
                        "metric_code": s.metric_code,
                        "operator": s.operator,
                        "value": s.value,
                        "unit": s.unit,
                        "strict": s.strict,
                        "level": s.level,
                        "period": str(self._year),
                        "status": "suggested",
                        "source_text": s.source_text,
                        "version": 1,
                        "created_at": self._now,
                        "updated_at": self._now,
                    }
                )
        if rows:
            await self._session.execute(insert(Target.__table__), rows)
            self.tally.targets += len(rows)

    def _schedule(self, text: str) -> Schedule | None:
        if not text:
            return None
        parsed = parse_schedule(text, self._year)
        bucket = parsed.kind.value if parsed.kind in (ScheduleKind.triggered, ScheduleKind.unparsed) else "typed"
        self.tally.schedules[bucket] += 1
        return parsed

    def _match(self, cell: str) -> tuple[list[str], list[str], list[str]]:
        if not cell:
            return [], [], []
        if cell not in self._cells:
            found = self._matcher.match(cell)
            self._cells[cell] = (list(found.units), list(found.groups), list(found.unmatched))
            for name in self._matcher.split(cell):
                if name not in found.unmatched:
                    self.tally.matched.setdefault(name)
        units, groups, unmatched = self._cells[cell]
        for name in unmatched:
            self.tally.unmatched.setdefault(name)
        return units, groups, unmatched


_PARENT_KINDS: dict[NodeKind, tuple[str, ...]] = {
    NodeKind.area: (),
    NodeKind.objective: (NodeKind.area,),
    NodeKind.task: (NodeKind.area, NodeKind.objective),
    NodeKind.activity: (NodeKind.task, NodeKind.activity),
}


async def add_node(uow: UnitOfWork, plan_id: int, data: NodeIn) -> NodeOut:
    """Add one node by hand, its cells read as an imported row's; a published plan's new
    obligations get their reminders at once. A task or activity may name the parent plan's task
    it implements: without a date of its own it owes that task's deadline, and none of its own
    dates may be later (422 on ``schedule``)."""
    session = uow.session
    plan = await get_plan(session, plan_id)
    if plan.status == PlanStatus.closed:
        raise Conflict(f"Plan {plan_id} is closed.")
    allowed = _PARENT_KINDS[data.kind]
    parent = await session.get(PlanNode, data.parent_id) if data.parent_id is not None else None
    if (parent is None) != (data.parent_id is None) or (
        parent is not None and (parent.plan_id != plan_id or parent.kind not in allowed)
    ):
        raise DomainError(
            f"A {data.kind} goes under {' or '.join(allowed) or 'nothing'} of the same plan.",
            errors=[{"field": "parent_id", "message": "not a possible parent for this kind"}],
        )
    if parent is None and data.kind in (NodeKind.objective, NodeKind.activity):
        raise DomainError(
            f"A {data.kind} needs a parent.", errors=[{"field": "parent_id", "message": "required for this kind"}]
        )
    implements = None
    if data.implements_id is not None:
        implements = await implemented_task(session, plan, data.implements_id, kind=data.kind)
        check_within(own_dues(data.schedule, plan.year), deadline_of(implements), field="schedule")
    writer = await NodeWriter.for_plan(uow, plan)
    draft = writer.draft(
        data.kind,
        data.parent_id,
        title=data.title,
        label=data.label,
        schedule=data.schedule or "",
        lead=data.lead or "",
        coordinating=data.coordinating or "",
        product=data.product or "",
        budget_amount=data.budget_amount,
        budget_text=data.budget_text or "",
        note=data.note or "",
        weight=data.weight,
        implements=implements,
    )
    await writer.flush()
    assert draft.id is not None
    await plan_reminders(uow, plan, [Obligation.node_id == draft.id])
    await roll_up(session, plan_id, uow.clock.now())
    tree = await plan_tree(session, plan_id)
    return find_node(tree, draft.id)


def find_node(tree: PlanTree, node_id: int) -> NodeOut:
    return next(n for n in _walk(tree.areas) if n.id == node_id)


def _walk(nodes: Sequence[NodeOut]) -> list[NodeOut]:
    found: list[NodeOut] = []
    for node in nodes:
        found.append(node)
        found.extend(_walk(node.children))
    return found


# --------------------------------------------------------------------------- reading the tree


async def plan_tree(session: AsyncSession, plan_id: int, scope: Scope = WHOLE_SYSTEM) -> PlanTree:
    """The whole tree of a plan ``scope`` sees, each node with its obligations (those ``scope`` sees)
    and progress."""
    await check_plan(session, plan_id, scope)
    plan = await get_plan(session, plan_id)
    nodes = (
        await session.scalars(select(PlanNode).where(PlanNode.plan_id == plan_id).order_by(PlanNode.position))
    ).all()
    obligations: dict[int, list[ObligationOut]] = defaultdict(list)
    for obligation in await session.scalars(
        select(Obligation)
        .where(Obligation.plan_id == plan_id, await obligations_shown(session, plan_id, scope))
        .order_by(Obligation.node_id, Obligation.role, Obligation.unit_code)
    ):
        obligations[obligation.node_id].append(ObligationOut.model_validate(obligation))
    out: dict[int, NodeOut] = {}
    roots: list[NodeOut] = []
    for node in nodes:
        item = NodeOut(
            id=node.id,
            parent_id=node.parent_id,
            kind=NodeKind(node.kind),
            label=node.label,
            title=node.title,
            line=node.line,
            product=node.product,
            budget_amount=node.budget_amount,
            budget_text=node.budget_text,
            note=node.note,
            schedule_raw=node.schedule_raw,
            schedule=node.schedule,
            lead_raw=node.lead_raw,
            coordinating_raw=node.coordinating_raw,
            unmatched=list(node.unmatched),
            weight=node.weight,
            progress=node.progress,
            implements_id=node.implements_id,
            dues=[date.fromisoformat(due) for due in node.dues],
            obligations=obligations[node.id],
        )
        out[node.id] = item
        parent = out.get(node.parent_id) if node.parent_id is not None else None
        (parent.children if parent is not None else roots).append(item)
    return PlanTree(plan=PlanOut.model_validate(plan), areas=roots)


# --------------------------------------------------------------------------- progress roll-up


async def roll_up(session: AsyncSession, plan_id: int, now: datetime) -> None:
    """Recompute the progress of every node and of the plan.

    A node with children is the weighted mean of the children that have a progress; a node
    without is the mean of its lead units' percents (its coordinating units' when it has no lead);
    a node with neither counts for nothing. The plan is the weighted mean of its areas. Withdrawn
    obligations (their unit left the group) do not count.
    """
    nodes = (
        await session.execute(
            select(PlanNode.id, PlanNode.parent_id, PlanNode.weight, PlanNode.progress)
            .where(PlanNode.plan_id == plan_id)
            .order_by(PlanNode.position)
        )
    ).all()
    own: dict[int, dict[str, float]] = defaultdict(dict)
    for node_id, role, mean in await session.execute(
        select(Obligation.node_id, Obligation.role, func.avg(Obligation.percent))
        .where(Obligation.plan_id == plan_id, Obligation.withdrawn_at.is_(None))
        .group_by(Obligation.node_id, Obligation.role)
    ):
        own[node_id][role] = float(mean)
    children: dict[int | None, list[int]] = defaultdict(list)
    weight: dict[int, float] = {}
    for node_id, parent_id, w, _ in nodes:
        children[parent_id].append(node_id)
        weight[node_id] = w
    value: dict[int, float | None] = {}

    def compute(node_id: int) -> float | None:
        stack = [(node_id, False)]
        while stack:
            current, expanded = stack.pop()
            if not expanded:
                stack.append((current, True))
                stack.extend((c, False) for c in children[current])
                continue
            value[current] = _weighted([(value[c], weight[c]) for c in children[current]])
            if value[current] is None:
                mine = own.get(current, {})
                value[current] = mine.get(Role.lead.value, mine.get(Role.coordinating.value))
        return value[node_id]

    areas = [(compute(a), weight[a]) for a in children[None]]
    changed = [
        {"id": node_id, "progress": round(value[node_id] or 0.0, 4)}
        for node_id, _, _, before in nodes
        if round(value[node_id] or 0.0, 4) != before
    ]
    if changed:
        await session.execute(update(PlanNode), changed)  # bulk UPDATE by primary key
    plan_progress = round(_weighted(areas) or 0.0, 4)
    await session.execute(update(Plan).where(Plan.id == plan_id).values(progress=plan_progress, updated_at=now))


def _weighted(pairs: Sequence[tuple[float | None, float]]) -> float | None:
    counted = [(v, w) for v, w in pairs if v is not None]
    total = sum(w for _, w in counted)
    return sum(v * w for v, w in counted) / total if total else None
