"""Revising a published plan from a revised table, and the history of a plan's imports (no HTTP,
no commits).

A revised table imported for a published plan makes a new revision of the same plan. Every node
an import writes carries the key of the row (or of the structure above rows) it was read from
(``importing.NodeKeys``); the revision finds each key again:

- a node whose key the table still has is **kept**: same id, obligations, occurrences and
  reported progress; its cells are updated. Units it no longer names are withdrawn
  (``unit_removed``), units it newly names get obligations, and when its due dates moved its
  occurrences follow them as an edited schedule's do (``cascade.py``: progress kept, reminders
  re-planned, ``task.rescheduled`` with ``reason`` ``revised``, child plans' tasks following);
- a row with a new key is a **new** node, written as an import writes it; a published plan's new
  obligations owe all their dates, as a node added by hand does;
- a node whose key the table no longer has is **removed**: hidden from the tree, the lists and the
  roll-up, its obligations withdrawn (``task_removed``) with what they reported kept. A node added
  by hand (no key) stays, unless it stood under a removed node.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, insert, select, update

from services.plans.cascade import REVISED, cascade
from services.plans.deadlines import deadline_of, effective_dues
from services.plans.models import NodeGroup, Obligation, Plan, PlanNode, PlanRevision
from services.plans.occurrences import NewObligation, insert_obligations
from services.plans.planning import NodeDraft, NodeWriter, roll_up
from services.plans.reminders import plan_reminders
from services.plans.schemas import ImportReport, NodeKind, PlanRevisionOut
from services.plans.withdrawals import TASK_REMOVED, UNIT_REMOVED, withdraw
from shared.problems import Conflict
from shared.uow import UnitOfWork

# what a revised row may change of a kept node (its kind too: "4.1" is a task once "4" is gone)
_REVISED_COLUMNS = (
    "kind",
    "label",
    "title",
    "position",
    "line",
    "product",
    "budget_amount",
    "budget_text",
    "note",
    "schedule_raw",
    "schedule_kind",
    "schedule",
    "lead_raw",
    "coordinating_raw",
    "unmatched",
    "search_text",
)
_TASKS = (NodeKind.task.value, NodeKind.activity.value)
_CHANGES = {"rows_added", "rows_changed", "rows_removed", "tasks_removed", "tasks_rescheduled", "obligations_withdrawn"}


class RevisionUnavailable(Conflict):
    code = "revision_unavailable"


@dataclass
class RevisionOutcome:
    """What a revision did to a published plan (all zero for a draft or a first import)."""

    tasks_removed: int = 0
    tasks_rescheduled: int = 0
    obligations_withdrawn: int = 0


@dataclass(frozen=True)
class _Known:
    id: int
    kind: str
    dues: list[date]
    implements_deadline: date | None


@dataclass
class _Kept:
    draft: NodeDraft
    known: _Known


@dataclass
class _Pending:
    """Changes gathered over the batches, applied once every row is placed."""

    moves: dict[int, list[date]] = field(default_factory=dict)
    owners: list[NewObligation] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)
    new_nodes: list[NodeDraft] = field(default_factory=list)


class RevisionWriter(NodeWriter):
    """Writes a revised table over a published plan: a node whose key the plan has is kept and
    updated in place, the others are written as new (see the module's docstring)."""

    _plan: Plan
    _known: dict[str, _Known]
    _used: set[int]
    _kept: list[_Kept]
    _later: _Pending
    _outcome: RevisionOutcome

    async def know_nodes(self) -> None:
        """Read the plan's live nodes by key; refuse a plan imported before nodes had keys."""
        session = self._session
        plan = await session.get(Plan, self._plan_id)
        assert plan is not None
        self._plan = plan
        rows = (
            await session.execute(
                select(PlanNode.id, PlanNode.source_key, PlanNode.kind, PlanNode.dues, PlanNode.implements_id).where(
                    PlanNode.plan_id == plan.id, PlanNode.removed_at.is_(None)
                )
            )
        ).all()
        if rows and all(key is None for _, key, _, _, _ in rows):
            raise RevisionUnavailable(
                f"Plan {plan.id} was imported before its rows were kept by key: it cannot be revised from a table.",
                errors=[
                    {"field": "file", "message": "this published plan was imported before revisions were possible"}
                ],
            )
        implemented = {i for *_, i in rows if i is not None}
        deadlines = {
            node.id: deadline_of(node)
            for node in await session.scalars(select(PlanNode).where(PlanNode.id.in_(implemented)))
        }
        self._known = {
            key: _Known(
                node_id,
                kind,
                [date.fromisoformat(d) for d in dues],
                deadlines.get(implements_id) if implements_id is not None else None,
            )
            for node_id, key, kind, dues, implements_id in rows
            if key is not None
        }
        self._used, self._kept, self._later, self._outcome = set(), [], _Pending(), RevisionOutcome()

    def _queue(self, node: NodeDraft) -> None:
        known = self._known.get(node.values["source_key"] or "")
        if known is None or known.id in self._used:
            self._later.new_nodes.append(node)
            super()._queue(node)
            return
        self._used.add(known.id)
        node.id = known.id
        if known.implements_deadline is not None:
            node.dues = effective_dues(node.dues, known.implements_deadline)
        self._kept.append(_Kept(node, known))

    def _queued(self) -> int:
        return super()._queued() + len(self._kept)

    async def flush(self) -> None:
        kept, self._kept = self._kept, []
        await super().flush()  # new nodes first: a kept node may now stand under one
        if kept:
            await self._update(kept)

    async def _update(self, kept: list[_Kept]) -> None:
        """Kept nodes take the revised row's cells, groups and units; date moves wait for ``finish``."""
        session = self._session
        rows = []
        for item in kept:
            draft = item.draft
            parent = draft.parent.id if isinstance(draft.parent, NodeDraft) else draft.parent
            rows.append({"id": draft.id, "parent_id": parent, **{c: draft.values[c] for c in _REVISED_COLUMNS}})
            if draft.dues != item.known.dues:
                assert draft.id is not None
                self._later.moves[draft.id] = draft.dues
        await session.execute(update(PlanNode), rows)  # bulk UPDATE by primary key
        ids = [item.draft.id for item in kept]
        await session.execute(delete(NodeGroup).where(NodeGroup.node_id.in_(ids)))
        named = [
            {"node_id": item.draft.id, "role": role.value, "group_code": group}
            for item in kept
            for role, group in item.draft.groups
        ]
        if named:
            await session.execute(insert(NodeGroup.__table__), named)
        await self._follow_units(kept)
        for item in kept:  # keep only the id, as written drafts do
            item.draft.values, item.draft.obligations, item.draft.groups = {}, [], []

    async def _follow_units(self, kept: list[_Kept]) -> None:
        existing: dict[int, dict[tuple[str, str], Obligation]] = defaultdict(dict)
        for obligation in await self._session.scalars(
            select(Obligation).where(Obligation.node_id.in_([item.draft.id for item in kept]))
        ):
            existing[obligation.node_id][(obligation.unit_code, obligation.role)] = obligation
        gone: list[Obligation] = []
        for item in kept:
            draft = item.draft
            assert draft.id is not None
            wanted = {(code, role.value): group for code, role, group in draft.obligations}
            mine = existing[draft.id]
            for unit_role, obligation in mine.items():
                if unit_role not in wanted:
                    if obligation.withdrawn_at is None:
                        gone.append(obligation)
                    continue
                obligation.group_code = wanted[unit_role]
                if obligation.withdrawn_at is not None:
                    obligation.withdrawn_at = None
                    obligation.version += 1
                    obligation.updated_at = self._now
                    self._later.restored.append(obligation.id)
            self._later.owners += [
                NewObligation(draft.id, code, role, group, draft.dues)
                for (code, role), group in wanted.items()
                if (code, role) not in mine
            ]
        await self._session.flush()
        await withdraw(self._uow, gone, UNIT_REMOVED)
        self._outcome.obligations_withdrawn += len(gone)

    async def finish(self) -> RevisionOutcome:
        """After the last row: remove the nodes the table no longer has, move the kept nodes' dates,
        give newly named units their obligations, plan the reminders and roll the plan up again."""
        session, plan, later = self._session, self._plan, self._later
        removed = await self._remove()
        fresh = select(PlanNode).where(PlanNode.id.in_(list(later.moves))).execution_options(populate_existing=True)
        nodes = (await session.scalars(fresh)).all()
        moved = await cascade(self._uow, [(node, later.moves[node.id]) for node in nodes], reason=REVISED)
        ids = await insert_obligations(session, plan.id, self._now, later.owners)
        self.tally.obligations += len(ids)
        new_nodes = [d.id for d in later.new_nodes if d.id is not None]
        await plan_reminders(
            self._uow, plan, [(Obligation.id.in_(ids + later.restored)) | (Obligation.node_id.in_(new_nodes))]
        )
        await roll_up(session, plan.id, self._now)
        outcome = self._outcome
        outcome.tasks_removed = sum(1 for kind in removed.values() if kind in _TASKS)
        outcome.tasks_rescheduled = sum(1 for node_id in moved if node_id in later.moves)
        return outcome

    async def _remove(self) -> dict[int, str]:
        """Mark removed the nodes whose key the table no longer has, and the nodes under them that
        it did not keep; withdraw their obligations. Their ids and kinds."""
        session = self._session
        live = (
            await session.execute(
                select(PlanNode.id, PlanNode.parent_id, PlanNode.kind).where(
                    PlanNode.plan_id == self._plan_id, PlanNode.removed_at.is_(None)
                )
            )
        ).all()
        kept_or_new = self._used | {d.id for d in self._later.new_nodes}
        removed = {k.id: k.kind for k in self._known.values() if k.id not in self._used}
        parents = {node_id: parent for node_id, parent, _ in live}
        kinds = {node_id: kind for node_id, _, kind in live}
        for node_id in parents:
            chain: list[int] = []
            up: int | None = node_id
            while up is not None and up not in removed and up not in kept_or_new:
                chain.append(up)
                up = parents.get(up)
            if up is not None and up in removed:  # under a removed node, and not placed again
                removed.update((n, kinds[n]) for n in chain)
        if not removed:
            return removed
        await session.execute(update(PlanNode).where(PlanNode.id.in_(list(removed))).values(removed_at=self._now))
        gone = (
            await session.scalars(
                select(Obligation).where(Obligation.node_id.in_(list(removed)), Obligation.withdrawn_at.is_(None))
            )
        ).all()
        await withdraw(self._uow, gone, TASK_REMOVED)
        self._outcome.obligations_withdrawn += len(gone)
        return removed


def record_revision(uow: UnitOfWork, plan: Plan, report: ImportReport) -> None:
    """Keep this import in the plan's history."""
    changes = report.model_dump(include=_CHANGES)
    uow.session.add(
        PlanRevision(
            plan_id=plan.id,
            revision=plan.revision,
            status=plan.status,
            source_name=plan.source_name,
            source_sha256=plan.source_sha256,
            changes=changes,
            imported_at=uow.clock.now(),
        )
    )


async def revisions_of(uow: UnitOfWork, plan_id: int) -> list[PlanRevisionOut]:
    """A plan's imports, oldest first."""
    found = await uow.session.scalars(
        select(PlanRevision).where(PlanRevision.plan_id == plan_id).order_by(PlanRevision.revision)
    )
    return [PlanRevisionOut.model_validate(r) for r in found]
