"""GraphQL types and queries of the plans service (mutations: ``graphql_mutations.py``)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry
from pydantic import BaseModel
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from services.plans import planning, progress, queries, service, targets
from services.plans.graphql_keys import API_KEYS
from services.plans.models import Plan, Unit
from services.plans.schemas import (
    NodeKind,
    NodeOut,
    OccurrenceOut,
    OwedPage,
    PlanOut,
    PlanStatus,
    ProgressStatus,
    Role,
    TargetOperator,
    TargetOut,
    TargetStatus,
    UnitLevel,
)
from services.plans.visibility import check_plan, plan_visible
from shared.clock import VN_TZ
from shared.graphql import GraphQLContext, in_scoped_transaction, page_size, read_scoped, service_status_field
from shared.paging import MAX_PAGE
from shared.scope import Scope
from shared.uow import UnitOfWork

for _enum in (UnitLevel, PlanStatus, NodeKind, Role, ProgressStatus, TargetOperator, TargetStatus):
    strawberry.enum(_enum)

T = TypeVar("T")


def build(cls: type[T], model: BaseModel, **overrides: Any) -> T:
    """A strawberry object from a pydantic one with the same field names."""
    names = {f.name for f in dataclasses.fields(cls) if f.init} & set(type(model).model_fields)  # type: ignore[arg-type]
    return cls(**{name: getattr(model, name) for name in names if name not in overrides}, **overrides)


@strawberry.type(description="An administrative unit")
class UnitType:
    code: str
    name: str
    aliases: list[str]
    level: UnitLevel
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    version: int

    @classmethod
    def of(cls, unit: Unit) -> UnitType:
        return cls(
            code=unit.code,
            name=unit.name,
            aliases=list(unit.aliases),
            level=UnitLevel(unit.level),
            parent_code=unit.parent_code,
            valid_from=unit.valid_from,
            valid_to=unit.valid_to,
            version=unit.version,
        )


@strawberry.type(description="A name plans use for several units, and its members")
class UnitGroupType:
    code: str
    name: str
    aliases: list[str]
    owner_code: str | None
    member_level: UnitLevel | None
    members: list[str]
    resolved_members: list[str]
    version: int


@strawberry.type(description="What one unit owes for one task or activity, and its progress")
class ObligationType:
    id: int
    plan_id: int
    node_id: int
    unit_code: str
    role: Role
    group_code: str | None
    status: ProgressStatus
    percent: float
    note: str | None
    evidence: list[str]
    due: date | None
    completed_on: date | None
    on_time: bool | None
    withdrawn_at: datetime | None
    version: int

    @strawberry.field(description="Its due dates, each with its progress (a recurring duty is reported per occurrence)")
    async def occurrences(self, info: Info[GraphQLContext, None]) -> list[OccurrenceType]:
        found = await read(info, lambda uow, scope: progress.list_occurrences(uow.session, self.id, scope))
        return [build(OccurrenceType, OccurrenceOut.model_validate(o)) for o in found]


@strawberry.type(description="One due date of an obligation with its own progress; doneOn is its completion date")
class OccurrenceType:
    id: int
    obligation_id: int
    unit_code: str
    due: date
    status: ProgressStatus
    percent: float
    note: str | None
    evidence: list[str]
    done_on: date | None
    on_time: bool | None
    version: int


@strawberry.type(description="A node of a plan's tree (area, objective, task, activity) with its progress")
class NodeType:
    id: int
    parent_id: int | None
    kind: NodeKind
    label: str | None
    title: str
    line: int | None
    product: str | None
    budget_amount: Decimal | None
    budget_text: str | None
    schedule_raw: str | None
    schedule: JSON | None
    lead_raw: str | None
    coordinating_raw: str | None
    unmatched: list[str]
    weight: float
    progress: float
    implements_id: int | None = strawberry.field(description="The parent plan's task or activity this one implements")
    dues: list[date] = strawberry.field(description="The due dates its obligations owe")
    obligations: list[ObligationType]
    children: list[NodeType]

    @classmethod
    def of(cls, node: NodeOut) -> NodeType:
        return build(
            cls,
            node,
            obligations=[build(ObligationType, o) for o in node.obligations],
            children=[cls.of(c) for c in node.children],
        )


@strawberry.type(description="A target (chỉ tiêu) of a plan; suggested ones await an officer")
class TargetType:
    id: int
    plan_id: int
    node_id: int | None
    metric_code: str | None
    operator: TargetOperator
    value: Decimal
    unit: str
    strict: bool
    level: UnitLevel | None
    period: str
    status: TargetStatus
    source_text: str | None
    version: int


@strawberry.type(description="A CCHC plan")
class PlanType:
    id: int
    issuer_code: str
    number: str | None
    title: str
    issued_on: date | None
    year: int
    parent_id: int | None
    status: PlanStatus
    source_name: str | None
    progress: float
    revision: int
    reminder_policy: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The tree under the plan: its areas, each with its descendants")
    async def areas(self, info: Info[GraphQLContext, None]) -> list[NodeType]:
        tree = await read(info, lambda uow, scope: planning.plan_tree(uow.session, self.id, scope))
        return [NodeType.of(a) for a in tree.areas]

    @strawberry.field(description="The plan's targets, optionally of one status")
    async def targets(self, info: Info[GraphQLContext, None], status: TargetStatus | None = None) -> list[TargetType]:
        async def visible(uow: UnitOfWork, scope: Scope) -> Any:
            await check_plan(uow.session, self.id, scope)
            return await targets.list_targets(uow.session, self.id, status=status)

        return [build(TargetType, TargetOut.model_validate(t)) for t in await read(info, visible)]


@strawberry.type
class PlanPageType:
    items: list[PlanType]
    next_cursor: str | None


@strawberry.type(description="One due occurrence of an obligation")
class OwedItemType:
    occurrence_id: int
    due: date
    done_on: date | None
    overdue: bool
    occurrence: OccurrenceType
    obligation: ObligationType
    plan_id: int
    plan_number: str | None
    plan_title: str
    node_label: str | None
    node_title: str
    node_kind: NodeKind


@strawberry.type
class OwedPageType:
    items: list[OwedItemType]
    next_cursor: str | None

    @classmethod
    def of(cls, page: OwedPage) -> OwedPageType:
        return cls(
            items=[
                build(
                    OwedItemType,
                    i,
                    occurrence=build(OccurrenceType, i.occurrence),
                    obligation=build(ObligationType, i.obligation),
                )
                for i in page.items
            ],
            next_cursor=page.next_cursor,
        )


@strawberry.type
class TaskHitType:
    id: int
    plan_id: int
    kind: NodeKind
    label: str | None
    title: str
    schedule_raw: str | None
    progress: float


@strawberry.type
class TaskPageType:
    items: list[TaskHitType]
    next_cursor: str | None


def plan_type(plan: Any) -> PlanType:
    return build(PlanType, PlanOut.model_validate(plan))


def _today(info: Info[GraphQLContext, None]) -> date:
    return info.context.service("plans").clock.now().astimezone(VN_TZ).date()


async def read(info: Info[GraphQLContext, None], action: Any) -> Any:
    """``action(uow, scope)`` in the caller's scope (shared/scope.py, services/plans/visibility.py)."""
    return await read_scoped(info, "plans", action)


async def write(info: Info[GraphQLContext, None], action: Any) -> Any:
    """``action(uow, scope)`` in one transaction, in the caller's scope."""
    return await in_scoped_transaction(info, "plans", action)


@strawberry.type
class Query:
    plans_status = service_status_field("plans")
    api_keys = API_KEYS

    @strawberry.field(
        description="Units by code, optionally of one level or under one parent: ``first`` units after the code ``after``"
    )
    async def units(
        self,
        info: Info[GraphQLContext, None],
        level: UnitLevel | None = None,
        parent_code: str | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> list[UnitType]:
        limit = page_size(first, MAX_PAGE)
        units = await read(
            info,
            lambda uow, scope: service.list_units(
                uow.session, level=level, parent_code=parent_code, after=after, limit=limit, scope=scope
            ),
        )
        return [UnitType.of(u) for u in units]

    @strawberry.field(description="One unit by its code, or null")
    async def unit(self, info: Info[GraphQLContext, None], code: str) -> UnitType | None:
        async def one(uow: UnitOfWork, scope: Scope) -> Unit | None:
            return await uow.session.get(Unit, code) if scope.allows(code) else None

        found = await read(info, one)
        return UnitType.of(found) if found else None

    @strawberry.field(
        description="Unit groups by code with their resolved members: ``first`` groups after the code ``after``"
    )
    async def unit_groups(
        self,
        info: Info[GraphQLContext, None],
        owner_code: str | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> list[UnitGroupType]:
        limit = page_size(first, MAX_PAGE)
        groups = await read(
            info,
            lambda uow, scope: service.list_groups(
                uow.session, owner_code=owner_code, after=after, limit=limit, scope=scope
            ),
        )
        return [build(UnitGroupType, g) for g in groups]

    @strawberry.field(description="Plans, newest first; pass nextCursor as after for the next page")
    async def plans(
        self,
        info: Info[GraphQLContext, None],
        issuer_code: str | None = None,
        year: int | None = None,
        status: PlanStatus | None = None,
        after: str | None = None,
        first: int = 50,
    ) -> PlanPageType:
        page = await read(
            info,
            lambda uow, scope: queries.list_plans(
                uow.session,
                issuer_code=issuer_code,
                year=year,
                status=status,
                cursor=after,
                limit=page_size(first, MAX_PAGE),
                scope=scope,
            ),
        )
        return PlanPageType(items=[build(PlanType, p) for p in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="One plan by id, or null")
    async def plan(self, info: Info[GraphQLContext, None], id: int) -> PlanType | None:
        found = await read(
            info, lambda uow, scope: uow.session.scalar(select(Plan).where(Plan.id == id, plan_visible(scope)))
        )
        return plan_type(found) if found else None

    @strawberry.field(description="What a unit owes (due dates in [from, to]) in published plans")
    async def unit_obligations(
        self,
        info: Info[GraphQLContext, None],
        unit_code: str,
        start: Annotated[date, strawberry.argument(name="from")],
        end: Annotated[date, strawberry.argument(name="to")],
        after: str | None = None,
        first: int = 100,
    ) -> OwedPageType:
        today = _today(info)
        limit = page_size(first, MAX_PAGE)

        async def owed(uow: UnitOfWork, scope: Scope) -> OwedPage:
            scope.check(unit_code, f"No unit with code {unit_code!r}.")
            return await queries.owed(uow.session, unit_code, start, end, today, cursor=after, limit=limit)

        page = await read(info, owed)
        return OwedPageType.of(page)

    @strawberry.field(description="A unit's occurrences past due and not done, oldest first")
    async def overdue_obligations(
        self, info: Info[GraphQLContext, None], unit_code: str, after: str | None = None, first: int = 100
    ) -> OwedPageType:
        today = _today(info)
        limit = page_size(first, MAX_PAGE)

        async def overdue(uow: UnitOfWork, scope: Scope) -> OwedPage:
            scope.check(unit_code, f"No unit with code {unit_code!r}.")
            return await queries.overdue(uow.session, unit_code, today, cursor=after, limit=limit)

        page = await read(info, overdue)
        return OwedPageType.of(page)

    @strawberry.field(description="Tasks and activities containing every word of q (diacritics optional)")
    async def search_tasks(
        self,
        info: Info[GraphQLContext, None],
        q: str,
        plan_id: int | None = None,
        after: str | None = None,
        first: int = 50,
    ) -> TaskPageType:
        page = await read(
            info,
            lambda uow, scope: queries.search_tasks(
                uow.session, q, plan_id=plan_id, cursor=after, limit=page_size(first, MAX_PAGE), scope=scope
            ),
        )
        return TaskPageType(items=[build(TaskHitType, h) for h in page.items], next_cursor=page.next_cursor)
