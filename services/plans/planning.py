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

from services.plans.events import PlanCounts, PlanPublished
from services.plans.models import Obligation, Occurrence, Plan, PlanNode, Target, Unit
from services.plans.reminders import cancel_reminders, schedule_reminders
from services.plans.schedules import Schedule, ScheduleKind, occurrences, parse_schedule
from services.plans.schemas import (
    NodeIn,
    NodeKind,
    NodeOut,
    ObligationOut,
    PlanIn,
    PlanOut,
    PlanStatus,
    PlanTree,
    ProgressStatus,
    Role,
)
from services.plans.service import matcher_for
from services.plans.target_suggestions import suggest_targets
from services.plans.textnorm import fold
from services.plans.unit_matching import UnitMatcher
from shared.problems import Conflict, DomainError, NotFound
from shared.uow import UnitOfWork

WRITE_BATCH = 500
_NODES = PlanNode.__table__  # Core tables: bulk inserts without the ORM's per-row bookkeeping
_OBLIGATIONS = Obligation.__table__
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
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan with id {plan_id}.")
    return plan


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


async def publish_plan(uow: UnitOfWork, plan_id: int, *, offsets: Sequence[int], hour: int) -> Plan:
    """Draft → published: announce it with its counts and start its reminders."""
    plan = await get_plan(uow.session, plan_id)
    if plan.status != PlanStatus.draft:
        raise Conflict(f"Plan {plan_id} is {plan.status}; only a draft can be published.")
    plan.status = PlanStatus.published
    plan.version += 1
    plan.updated_at = uow.clock.now()
    await schedule_reminders(uow, plan_id, offsets=offsets, hour=hour)
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
    ) -> NodeDraft:
        """Queue a node; its cells are read (schedule parsed, agencies matched) at once."""
        self._position += 1
        parsed = self._schedule(schedule)
        unmatched: list[str] = []
        obligations: dict[tuple[str, Role], str | None] = {}
        for role, cell in ((Role.lead, lead), (Role.coordinating, coordinating)):
            units, groups, missing = self._match(cell)
            unmatched += missing
            for code in units:
                obligations.setdefault((code, role), None)
            for group in groups:
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
            },
            obligations=[(code, role, group) for (code, role), group in obligations.items()],
            dues=self._dues(parsed),
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
            by_position = {position: node_id for position, node_id in written}  # position is unique in a plan: no ordering needed
            ids = [by_position[d.values["position"]] for d in ready]
            for draft, node_id in zip(ready, ids, strict=True):
                draft.id = node_id
                self.tally.nodes[draft.kind.value] += 1
            waiting = [d for d in waiting if d.id is None]
        await self._write_obligations(drafts)
        await self._write_suggestions(drafts)
        for draft in drafts:  # keep only the id: later rows may still name this node as parent
            draft.values, draft.obligations, draft.dues, draft.suggestions_from = {}, [], [], ""

    async def _write_obligations(self, drafts: list[NodeDraft]) -> None:
        owners = [(d, code, role, group) for d in drafts for code, role, group in d.obligations]
        if not owners:
            return
        rows = [
            {
                "plan_id": self._plan_id,
                "node_id": d.id,
                "unit_code": code,
                "role": role.value,
                "group_code": group,
                "status": ProgressStatus.not_started.value,
                "percent": 0.0,
                "evidence": [],
                "due": max(d.dues) if d.dues else None,
                "version": 1,
                "updated_at": self._now,
            }
            for d, code, role, group in owners
        ]
        written = await self._session.execute(
            insert(_OBLIGATIONS).returning(_OBLIGATIONS.c.node_id, _OBLIGATIONS.c.unit_code, _OBLIGATIONS.c.role, _OBLIGATIONS.c.id),
            rows,
        )
        by_key = {(node_id, code, role): obligation_id for node_id, code, role, obligation_id in written}
        ids = [by_key[(d.id, code, role.value)] for d, code, role, _ in owners]
        self.tally.obligations += len(ids)
        occurrences_rows = [
            {"obligation_id": obligation_id, "plan_id": self._plan_id, "unit_code": code, "due": due}
            for (d, code, _, _), obligation_id in zip(owners, ids, strict=True)
            for due in d.dues
        ]
        if occurrences_rows:
            await self._session.execute(insert(Occurrence.__table__), occurrences_rows)

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

    def _dues(self, schedule: Schedule | None) -> list[date]:
        if schedule is None:
            return []
        if schedule.kind is ScheduleKind.recurring:
            return occurrences(schedule, date(self._year, 1, 1), date(self._year, 12, 31))
        return [schedule.due] if schedule.due is not None else []

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


async def add_node(uow: UnitOfWork, plan_id: int, data: NodeIn, *, offsets: Sequence[int], hour: int) -> NodeOut:
    """Add one node by hand, its cells read as an imported row's; a published plan's new
    obligations get their reminders at once."""
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
    )
    await writer.flush()
    assert draft.id is not None
    if plan.status == PlanStatus.published:
        ids = (await session.scalars(select(Obligation.id).where(Obligation.node_id == draft.id))).all()
        await schedule_reminders(uow, plan_id, offsets=offsets, hour=hour, obligation_ids=ids)
    await roll_up(session, plan_id, uow.clock.now())
    tree = await plan_tree(session, plan_id)
    return next(n for n in _walk(tree.areas) if n.id == draft.id)


def _walk(nodes: Sequence[NodeOut]) -> list[NodeOut]:
    found: list[NodeOut] = []
    for node in nodes:
        found.append(node)
        found.extend(_walk(node.children))
    return found


# --------------------------------------------------------------------------- reading the tree


async def plan_tree(session: AsyncSession, plan_id: int) -> PlanTree:
    """The whole tree of a plan, each node with its obligations and progress."""
    plan = await get_plan(session, plan_id)
    nodes = (
        await session.scalars(select(PlanNode).where(PlanNode.plan_id == plan_id).order_by(PlanNode.position))
    ).all()
    obligations: dict[int, list[ObligationOut]] = defaultdict(list)
    for obligation in await session.scalars(
        select(Obligation)
        .where(Obligation.plan_id == plan_id)
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
    a node with neither counts for nothing. The plan is the weighted mean of its areas.
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
        .where(Obligation.plan_id == plan_id)
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
