"""GraphQL mutations of the plans service.

Inputs are checked by the same pydantic models as the REST bodies: an invalid one is an
``INVALID_INPUT`` error with one entry per field in ``extensions.errors``; a refusal of the domain
carries its code (``CONFLICT``, ``NOT_FOUND``, ``DEADLINE_AFTER_PARENT``, ``MISSING_COLUMNS``...)
and its field errors, as ``shared.graphql.domain_error`` makes them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from services.plans import cascade, importing, planning, progress, service, targets
from services.plans.graphql import (
    NodeType,
    ObligationType,
    OccurrenceType,
    PlanType,
    TargetType,
    UnitType,
    build,
    plan_type,
    write,
)
from services.plans.graphql_keys import CREATE_API_KEY, REVOKE_API_KEY
from services.plans.reminders import ReminderPolicy
from services.plans.schemas import (
    ImportReport,
    NodeIn,
    NodeKind,
    NodeUpdate,
    ObligationOut,
    OccurrenceOut,
    PlanImportIn,
    ProgressIn,
    ProgressStatus,
    TargetIn,
    TargetOperator,
    TargetOut,
    TargetUpdate,
    UnitIn,
    UnitLevel,
    UnitPatch,
    UnitRecord,
)
from services.plans.settings import PlansSettings
from services.plans.visibility import check_node, check_obligation, check_occurrence, check_plan, check_target
from shared.bounds import AgencyId
from shared.graphql import GraphQLContext, checked_input
from shared.scope import Scope
from shared.uow import UnitOfWork


@strawberry.input
class UnitInput:
    name: str
    level: UnitLevel
    aliases: list[str] = strawberry.field(default_factory=list)
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@strawberry.input(
    description="Some fields of a unit: those given change (null clears parentCode, validFrom, validTo), the others stay"
)
class UnitPatchInput:
    name: str | None = strawberry.UNSET
    level: UnitLevel | None = strawberry.UNSET
    aliases: list[str] | None = strawberry.UNSET
    parent_code: str | None = strawberry.UNSET
    valid_from: date | None = strawberry.UNSET
    valid_to: date | None = strawberry.UNSET


class _UnitPatchArguments(UnitPatch):
    """patchUnit's arguments, checked as the REST path and body are."""

    code: AgencyId


@strawberry.input(
    description="A progress report; version is the version (of the obligation or occurrence) the reporter read"
)
class ProgressInput:
    version: int
    status: ProgressStatus | None = None
    percent: float | None = None
    note: str | None = None
    evidence: list[str] | None = None
    completed_on: date | None = None


@strawberry.input(description="A target of the plan, or of one of its areas, objectives or tasks (nodeId)")
class TargetInput:
    metric_code: str
    operator: TargetOperator
    value: Decimal
    period: str
    node_id: int | None = None
    unit: str = "%"
    strict: bool = strawberry.field(default=False, description='"trên X%": strictly more than X')
    level: UnitLevel | None = None


@strawberry.input(description="A node added by hand; its cells are read as an imported row's")
class NodeInput:
    kind: NodeKind
    title: str
    parent_id: int | None = None
    label: str | None = None
    schedule: str | None = None
    lead: str | None = None
    coordinating: str | None = None
    product: str | None = None
    budget_amount: Decimal | None = None
    budget_text: str | None = None
    note: str | None = None
    weight: float = 1.0
    implements_id: int | None = strawberry.field(default=None, description="The parent plan's task it implements")


@strawberry.input(description="A new schedule and/or link to the parent plan's task; a field left out stays as it is")
class NodeUpdateInput:
    schedule: str | None = strawberry.UNSET
    implements_id: int | None = strawberry.UNSET


@strawberry.type
class ScheduleCountsType:
    typed: int
    triggered: int
    unparsed: int


@strawberry.type
class UnitCountsType:
    matched: int
    unmatched: list[str]


@strawberry.type(description="What an import read, typed and matched")
class ImportReportType:
    plan_id: int
    unchanged: bool
    rows_read: int
    areas_created: int
    objectives_created: int
    tasks_created: int
    activities_created: int
    obligations_created: int
    targets_suggested: int
    schedules: ScheduleCountsType
    units: UnitCountsType
    rows_added: int
    rows_changed: int
    rows_removed: int
    revision: int
    tasks_removed: int
    tasks_rescheduled: int
    obligations_withdrawn: int

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportType:
        return build(
            cls,
            report,
            schedules=build(ScheduleCountsType, report.schedules),
            units=build(UnitCountsType, report.units),
        )


def _target(target: Any) -> TargetType:
    return build(TargetType, TargetOut.model_validate(target))


@strawberry.type
class Mutation:
    create_api_key = CREATE_API_KEY
    revoke_api_key = REVOKE_API_KEY

    @strawberry.mutation(
        description="Register a unit or replace it whole (a field left out takes its default); patchUnit changes some fields"
    )
    async def upsert_unit(self, info: Info[GraphQLContext, None], code: str, input: UnitInput) -> UnitType:
        data = checked_input(UnitRecord, {"code": code, **strawberry.asdict(input)})
        unit = UnitIn.model_validate(data.model_dump(exclude={"code"}))

        async def upsert(uow: UnitOfWork, scope: Scope) -> Any:
            scope.require_whole_system("The units registry")
            return await service.upsert_unit(uow, data.code, unit)

        return UnitType.of(await write(info, upsert))

    @strawberry.mutation(description="Change some fields of a registered unit; the others stay as they are")
    async def patch_unit(self, info: Info[GraphQLContext, None], code: str, input: UnitPatchInput) -> UnitType:
        data = checked_input(_UnitPatchArguments, {"code": code, **strawberry.asdict(input)})
        patch = UnitPatch.model_validate(data.model_dump(exclude_unset=True, exclude={"code"}))

        async def change(uow: UnitOfWork, scope: Scope) -> Any:
            scope.require_whole_system("The units registry")
            return await service.patch_unit(uow, data.code, patch)

        return UnitType.of(await write(info, change))

    @strawberry.mutation(
        description="Import a plan's appendix table (CSV or XLSX) as a draft: a multipart request (GraphQL "
        "multipart request spec) with the header Apollo-Require-Preflight"
    )
    async def import_plan(
        self,
        info: Info[GraphQLContext, None],
        file: Upload,
        issuer: str,
        year: int,
        number: str | None = None,
        title: str | None = None,
        issued_on: date | None = None,
    ) -> ImportReportType:
        form = checked_input(
            PlanImportIn, {"issuer": issuer, "year": year, "number": number, "title": title, "issued_on": issued_on}
        )
        limit = PlansSettings.of(info.context.service("plans").settings).plans_import_max_bytes

        async def read_table(uow: UnitOfWork, scope: Scope) -> ImportReport:
            upload = cast(UploadFile, file)  # strawberry declares Upload as bytes; over ASGI it is an UploadFile
            importing.check_size(upload.size, limit)
            return await importing.import_plan(uow, upload.file, upload.filename or "table.csv", form, scope)

        return ImportReportType.of(await write(info, read_table))

    @strawberry.mutation(description="Publish a draft plan: its reminders start")
    async def publish_plan(self, info: Info[GraphQLContext, None], plan_id: int) -> PlanType:
        policy = ReminderPolicy.of(info.context.service("plans").settings)

        async def publish(uow: UnitOfWork, scope: Scope) -> Any:
            await check_plan(uow.session, plan_id, scope, change=True)
            return await planning.publish_plan(uow, plan_id, policy=policy)

        return plan_type(await write(info, publish))

    @strawberry.mutation(description="Add an area, objective, task or activity to a plan's tree")
    async def add_node(self, info: Info[GraphQLContext, None], plan_id: int, input: NodeInput) -> NodeType:
        data = checked_input(NodeIn, strawberry.asdict(input))

        async def add(uow: UnitOfWork, scope: Scope) -> Any:
            await check_plan(uow.session, plan_id, scope, change=True)
            return await planning.add_node(uow, plan_id, data)

        return NodeType.of(await write(info, add))

    @strawberry.mutation(
        description="Change a node's schedule or the parent plan's task it implements; child plans' tasks follow"
    )
    async def change_node(self, info: Info[GraphQLContext, None], node_id: int, input: NodeUpdateInput) -> NodeType:
        data = checked_input(NodeUpdate, strawberry.asdict(input))

        async def change(uow: UnitOfWork, scope: Scope) -> Any:
            await check_node(uow.session, node_id, scope)
            return await cascade.change_node(uow, node_id, data)

        return NodeType.of(await write(info, change))

    @strawberry.mutation(description="Report progress on an obligation; a stale version is refused (CONFLICT)")
    async def report_progress(
        self, info: Info[GraphQLContext, None], obligation_id: int, input: ProgressInput
    ) -> ObligationType:
        data = checked_input(ProgressIn, strawberry.asdict(input))

        async def report(uow: UnitOfWork, scope: Scope) -> Any:
            await check_obligation(uow.session, obligation_id, scope)
            return await progress.report_progress(uow, obligation_id, data)

        obligation = await write(info, report)
        return build(ObligationType, ObligationOut.model_validate(obligation))

    @strawberry.mutation(description="Report progress on one due date of an obligation (one month of a monthly duty)")
    async def report_occurrence_progress(
        self, info: Info[GraphQLContext, None], occurrence_id: int, input: ProgressInput
    ) -> OccurrenceType:
        data = checked_input(ProgressIn, strawberry.asdict(input))

        async def report(uow: UnitOfWork, scope: Scope) -> Any:
            await check_occurrence(uow.session, occurrence_id, scope)
            return await progress.report_occurrence(uow, occurrence_id, data)

        occurrence = await write(info, report)
        return build(OccurrenceType, OccurrenceOut.model_validate(occurrence))

    @strawberry.mutation(description="Set a confirmed target of a plan: it is published to scoring")
    async def set_target(self, info: Info[GraphQLContext, None], plan_id: int, input: TargetInput) -> TargetType:
        data = checked_input(TargetIn, strawberry.asdict(input))

        async def set_one(uow: UnitOfWork, scope: Scope) -> Any:
            await check_plan(uow.session, plan_id, scope, change=True)
            return await targets.set_target(uow, plan_id, data)

        return _target(await write(info, set_one))

    @strawberry.mutation(description="Change a target or a suggestion; a stale version is refused (CONFLICT)")
    async def update_target(
        self, info: Info[GraphQLContext, None], target_id: int, version: int, input: TargetInput
    ) -> TargetType:
        data = checked_input(TargetUpdate, {**strawberry.asdict(input), "version": version})

        async def update(uow: UnitOfWork, scope: Scope) -> Any:
            await check_target(uow.session, target_id, scope, change=True)
            return await targets.update_target(uow, target_id, data)

        return _target(await write(info, update))

    @strawberry.mutation(description="Confirm a suggested target: it is published to scoring")
    async def confirm_target(self, info: Info[GraphQLContext, None], target_id: int, version: int) -> TargetType:
        async def confirm(uow: UnitOfWork, scope: Scope) -> Any:
            await check_target(uow.session, target_id, scope, change=True)
            return await targets.confirm_target(uow, target_id, version)

        return _target(await write(info, confirm))
