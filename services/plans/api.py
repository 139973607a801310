"""REST routes of the plans service (mounted at ``/plans``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Path, Query, Response, UploadFile

from services.plans import (
    cascade,
    importing,
    keys,
    planning,
    progress,
    queries,
    revisions,
    service,
    targets,
)
from services.plans.reminders import ReminderPolicy
from services.plans.schemas import (
    ImportReport,
    NodeIn,
    NodeOut,
    NodeUpdate,
    ObligationOut,
    OccurrenceOut,
    OwedPage,
    PlanImportIn,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanRevisionList,
    PlanStatus,
    PlanTree,
    ProgressIn,
    TargetIn,
    TargetOut,
    TargetStatus,
    TargetUpdate,
    TaskPage,
    UnitGroupIn,
    UnitGroupOut,
    UnitGroupPage,
    UnitImportResult,
    UnitIn,
    UnitLevel,
    UnitOut,
    UnitPage,
    UnitPatch,
)
from services.plans.settings import PlansSettings
from services.plans.visibility import check_node, check_obligation, check_occurrence, check_plan, check_target
from shared.auth import CurrentPrincipal
from shared.bounds import AgencyId, Day, Id, Slug
from shared.clock import VN_TZ
from shared.paging import Cursor, Limit
from shared.scope import CurrentScope
from shared.service import Context, Uow

router = APIRouter(prefix="/v1")
PlanId = Annotated[Id, Path(description="The plan's id")]
NodeId = Annotated[Id, Path(description="The node's id (an area, objective, task or activity)")]
ObligationId = Annotated[Id, Path(description="The obligation's id")]
OccurrenceId = Annotated[Id, Path(description="The occurrence's id")]
TargetId = Annotated[Id, Path(description="The target's id")]
UnitCodePath = Annotated[str, Path(description="The unit's code (electronic agency id), e.g. 000.00.12.H42")]
UnitCodeIn = Annotated[AgencyId, Path(description="The unit's code (electronic agency id), e.g. 000.00.12.H42")]
GroupCodePath = Annotated[str, Path(description="The group's code, e.g. TCT")]
GroupCodeIn = Annotated[Slug, Path(description="The group's code: letters and digits joined by . _ or -")]


# --------------------------------------------------------------------------- units


@router.post(
    "/units:import", response_model=list[UnitImportResult], tags=["units"], summary="Register or change many units"
)
async def import_units(
    records: Annotated[
        list[dict[str, Any]],
        Body(examples=[[{"code": "000.00.12.H42", "name": "UBND xã Cẩm Quang", "level": "commune"}]]),
    ],
    uow: Uow,
    scope: CurrentScope,
) -> list[UnitImportResult]:
    """Register or change many units at once (a province's registry): each record is answered on its own (created, updated, unchanged or rejected with field errors), so one bad record never sinks the others. Publishes `unit.upserted` for each change."""
    scope.require_whole_system("The units registry")
    results = await service.import_units(uow, records)
    await uow.commit()
    return results


@router.put(
    "/units/{code}",
    response_model=UnitOut,
    tags=["units"],
    summary="Register a unit or replace it whole",
    description="Replaces the unit: a field left out takes its default (no parent, no aliases, no validity dates), "
    "which may move the unit out of its groups and withdraw its obligations. To change some fields, use PATCH.",
)
async def put_unit(code: UnitCodeIn, body: UnitIn, uow: Uow, scope: CurrentScope) -> UnitOut:
    scope.require_whole_system("The units registry")
    unit = await service.upsert_unit(uow, code, body)
    await uow.commit()
    return UnitOut.model_validate(unit)


@router.patch(
    "/units/{code}",
    response_model=UnitOut,
    tags=["units"],
    summary="Change some fields of a unit",
    description="The fields sent change (`null` clears `parent_code`, `valid_from` or `valid_to`); the others stay.",
)
async def patch_unit(code: UnitCodeIn, body: UnitPatch, uow: Uow, scope: CurrentScope) -> UnitOut:
    scope.require_whole_system("The units registry")
    unit = await service.patch_unit(uow, code, body)
    await uow.commit()
    return UnitOut.model_validate(unit)


@router.get("/units/{code}", response_model=UnitOut, tags=["units"], summary="One unit")
async def get_unit(code: UnitCodePath, uow: Uow, scope: CurrentScope) -> UnitOut:
    """One unit of the registry by its code (404 when unknown)."""
    return UnitOut.model_validate(await service.get_unit(uow.session, code, scope))


@router.delete("/units/{code}", status_code=204, tags=["units"], summary="Remove a unit nothing refers to")
async def delete_unit(code: UnitCodePath, uow: Uow, scope: CurrentScope) -> Response:
    """Remove a unit no plan, obligation, group or sub-unit refers to (409 naming what still does); publishes `unit.deleted`."""
    scope.require_whole_system("The units registry")
    await service.delete_unit(uow, code)
    await uow.commit()
    return Response(status_code=204)


@router.get("/units", response_model=UnitPage, tags=["units"], summary="Units by code, optionally by level or parent")
async def list_units(
    uow: Uow,
    scope: CurrentScope,
    level: Annotated[UnitLevel | None, Query(description="Only units of this level")] = None,
    parent_code: Annotated[str | None, Query(description="Only the direct sub-units of this unit")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> UnitPage:
    """The units of the registry in code order, paged by cursor, optionally of one level or under one parent."""

    def fetch(after: str | None, size: int) -> Any:
        return service.list_units(
            uow.session, level=level, parent_code=parent_code, after=after, limit=size, scope=scope
        )

    units, next_cursor = await queries.by_code(fetch, lambda u: u.code, cursor, limit)
    return UnitPage(items=[UnitOut.model_validate(u) for u in units], next_cursor=next_cursor)


@router.put("/unit-groups/{code}", response_model=UnitGroupOut, tags=["units"], summary="Define a unit group")
async def put_group(code: GroupCodeIn, body: UnitGroupIn, uow: Uow, scope: CurrentScope) -> UnitGroupOut:
    """Define (or redefine) a named group plans write in their cells (UBND các xã, thị trấn): its members are the units of a level under the owner and the units listed. Obligations owed through it follow its members."""
    scope.require_whole_system("The units registry")
    group = await service.upsert_group(uow, code, body)
    await uow.commit()
    return group


@router.get(
    "/unit-groups/{code}", response_model=UnitGroupOut, tags=["units"], summary="One unit group with its members"
)
async def get_group(code: GroupCodePath, uow: Uow, scope: CurrentScope) -> UnitGroupOut:
    """One unit group with its listed and resolved members (404 when unknown)."""
    return await service.get_group(uow.session, code, scope)


@router.get(
    "/unit-groups", response_model=UnitGroupPage, tags=["units"], summary="Unit groups by code, optionally of one owner"
)
async def list_groups(
    uow: Uow,
    scope: CurrentScope,
    owner_code: Annotated[str | None, Query(description="Only groups this unit's plans use")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> UnitGroupPage:
    """The unit groups in code order, paged by cursor, optionally of one owner."""

    def fetch(after: str | None, size: int) -> Any:
        return service.list_groups(uow.session, owner_code=owner_code, after=after, limit=size, scope=scope)

    groups, next_cursor = await queries.by_code(fetch, lambda g: g.code, cursor, limit)
    return UnitGroupPage(items=groups, next_cursor=next_cursor)


@router.delete("/unit-groups/{code}", status_code=204, tags=["units"], summary="Remove a unit group")
async def delete_group(code: GroupCodePath, uow: Uow, scope: CurrentScope) -> Response:
    """Remove a unit group no obligation is owed through (409 otherwise)."""
    scope.require_whole_system("The units registry")
    await service.delete_group(uow, code)
    await uow.commit()
    return Response(status_code=204)


@router.get(
    "/units/{code}/obligations", response_model=OwedPage, tags=["queries"], summary="What a unit owes between two dates"
)
async def unit_obligations(
    code: UnitCodePath,
    context: Context,
    uow: Uow,
    scope: CurrentScope,
    start: Annotated[Day, Query(alias="from", description="The first day (YYYY-MM-DD)")],
    end: Annotated[Day, Query(alias="to", description="The last day, included (YYYY-MM-DD)")],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> OwedPage:
    """What a unit owes from `from` to `to`: every due occurrence of its obligations (a monthly duty owes once a month), by due date, paged by cursor, with what each is about."""
    scope.check(code, f"No unit with code {code!r}.")
    return await queries.owed(uow.session, code, start, end, _today(context), cursor=cursor, limit=limit)


@router.get("/units/{code}/overdue", response_model=OwedPage, tags=["queries"], summary="A unit's overdue obligations")
async def unit_overdue(
    code: UnitCodePath, context: Context, uow: Uow, scope: CurrentScope, cursor: Cursor = None, limit: Limit = 100
) -> OwedPage:
    """A unit's occurrences past their due date and not done, by due date, paged by cursor."""
    scope.check(code, f"No unit with code {code!r}.")
    return await queries.overdue(uow.session, code, _today(context), cursor=cursor, limit=limit)


# --------------------------------------------------------------------------- plans


@router.post(
    "/plans:import",
    response_model=ImportReport,
    tags=["plans"],
    summary="Import a plan's appendix table (CSV or XLSX)",
    responses={413: {"description": "The file is larger than the configured limit"}},
)
async def import_plan(
    context: Context,
    uow: Uow,
    scope: CurrentScope,
    file: Annotated[
        UploadFile, File(description="the appendix table: .csv (UTF-8, UTF-8 with BOM, Windows-1258) or .xlsx")
    ],
    form: Annotated[PlanImportIn, Form()],
) -> ImportReport:
    """Import a plan's appendix table as officers have it (CSV in UTF-8 or Windows-1258, or XLSX) as a draft plan: its areas, objectives, tasks and activities, schedules parsed from the Tiến độ cells, one obligation per unit named (groups expanded) and suggested targets. The same table again changes nothing (`unchanged`); a revised one updates the draft in place."""
    importing.check_size(file.size, PlansSettings.of(context.settings).plans_import_max_bytes)
    report = await importing.import_plan(uow, file.file, file.filename or "table.csv", form, scope)
    await uow.commit()
    return report


@router.post("/plans", response_model=PlanOut, status_code=201, tags=["plans"], summary="Create a draft plan")
async def create_plan(body: PlanIn, uow: Uow, scope: CurrentScope) -> PlanOut:
    """Create an empty draft plan, to fill node by node."""
    scope.check(body.issuer_code, f"No unit {body.issuer_code!r} in your scope.", field="issuer_code")
    plan = await planning.create_plan(uow, body)
    await uow.commit()
    return PlanOut.model_validate(plan)


@router.get("/plans", response_model=PlanPage, tags=["plans"], summary="Plans, newest first")
async def list_plans(
    uow: Uow,
    scope: CurrentScope,
    issuer_code: Annotated[str | None, Query(description="Only plans this unit issued")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Only plans of this year")] = None,
    status: Annotated[PlanStatus | None, Query(description="Only plans in this status")] = None,
    parent_id: Annotated[Id | None, Query(description="Only plans that implement this plan")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PlanPage:
    """Plans, newest first, paged by cursor: of an issuer, a year, a status, or implementing a parent plan."""
    return await queries.list_plans(
        uow.session,
        issuer_code=issuer_code,
        year=year,
        status=status,
        parent_id=parent_id,
        cursor=cursor,
        limit=limit,
        scope=scope,
    )


@router.get("/plans/{plan_id}", response_model=PlanOut, tags=["plans"], summary="One plan")
async def get_plan(plan_id: PlanId, uow: Uow, scope: CurrentScope) -> PlanOut:
    """One plan with its rolled-up progress (404 when unknown)."""
    await check_plan(uow.session, plan_id, scope)
    return PlanOut.model_validate(await planning.get_plan(uow.session, plan_id))


@router.get(
    "/plans/{plan_id}/revisions",
    response_model=PlanRevisionList,
    tags=["plans"],
    summary="A plan's imports: its first table and each revised one, oldest first",
)
async def plan_revisions(plan_id: PlanId, uow: Uow, scope: CurrentScope) -> PlanRevisionList:
    """Each table imported into the plan, with what it changed: the first import, then every revised table
    (a draft revised in place, or a new revision of the published plan)."""
    await check_plan(uow.session, plan_id, scope)
    return PlanRevisionList(items=await revisions.revisions_of(uow, plan_id))


@router.get(
    "/plans/{plan_id}/tree",
    response_model=PlanTree,
    tags=["plans"],
    summary="A plan's tree with obligations and progress",
)
async def plan_tree(plan_id: PlanId, uow: Uow, scope: CurrentScope) -> PlanTree:
    """A plan's whole tree: areas, objectives, tasks and activities with their schedules, obligations and progress."""
    return await planning.plan_tree(uow.session, plan_id, scope)


@router.post(
    "/plans/{plan_id}/nodes", response_model=NodeOut, status_code=201, tags=["plans"], summary="Add a node by hand"
)
async def add_node(plan_id: PlanId, body: NodeIn, uow: Uow, scope: CurrentScope) -> NodeOut:
    """Add an area, objective, task or activity to a draft plan by hand; its cells are read as an imported row's would be (schedule parsed, units matched)."""
    await check_plan(uow.session, plan_id, scope, change=True)
    node = await planning.add_node(uow, plan_id, body)
    await uow.commit()
    return node


@router.patch(
    "/nodes/{node_id}",
    response_model=NodeOut,
    tags=["plans"],
    summary="Change a node's schedule or the parent plan's task it implements (child plans follow)",
)
async def change_node(node_id: NodeId, body: NodeUpdate, uow: Uow, scope: CurrentScope) -> NodeOut:
    """Change a node's schedule, or the parent plan's task it implements; its obligations' due dates follow, and so do the child plans' tasks that implement it (the cascade)."""
    await check_node(uow.session, node_id, scope)
    node = await cascade.change_node(uow, node_id, body)
    await uow.commit()
    return node


@router.post("/plans/{plan_id}:publish", response_model=PlanOut, tags=["plans"], summary="Publish a draft plan")
async def publish_plan(plan_id: PlanId, context: Context, uow: Uow, scope: CurrentScope) -> PlanOut:
    """Publish a draft plan: its obligations start to count and their reminders are planned; publishes `plan.published` and each target's `target.set`."""
    await check_plan(uow.session, plan_id, scope, change=True)
    plan = await planning.publish_plan(uow, plan_id, policy=ReminderPolicy.of(context.settings))
    await uow.commit()
    return PlanOut.model_validate(plan)


@router.post("/plans/{plan_id}:close", response_model=PlanOut, tags=["plans"], summary="Close a published plan")
async def close_plan(plan_id: PlanId, uow: Uow, scope: CurrentScope) -> PlanOut:
    """Close a published plan: no more reminders; progress stays as reported."""
    await check_plan(uow.session, plan_id, scope, change=True)
    plan = await planning.close_plan(uow, plan_id)
    await uow.commit()
    return PlanOut.model_validate(plan)


@router.get("/tasks", response_model=TaskPage, tags=["queries"], summary="Search tasks and activities by text")
async def search_tasks(
    uow: Uow,
    scope: CurrentScope,
    q: Annotated[str, Query(min_length=1, description="words to find, diacritics optional")],
    plan_id: Annotated[Id | None, Query(description="Only in this plan")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TaskPage:
    """Tasks and activities whose title holds the words asked (diacritics and case aside), optionally in one plan, paged by cursor."""
    return await queries.search_tasks(uow.session, q, plan_id=plan_id, cursor=cursor, limit=limit, scope=scope)


# --------------------------------------------------------------------------- progress


@router.get("/obligations/{obligation_id}", response_model=ObligationOut, tags=["progress"], summary="One obligation")
async def get_obligation(obligation_id: ObligationId, uow: Uow, scope: CurrentScope) -> ObligationOut:
    """One obligation: what one unit owes for one task, with its progress (404 when unknown)."""
    await check_obligation(uow.session, obligation_id, scope)
    return ObligationOut.model_validate(await progress.get_obligation(uow.session, obligation_id))


@router.patch(
    "/obligations/{obligation_id}",
    response_model=ObligationOut,
    tags=["progress"],
    summary="Report progress (version required)",
)
async def report_progress(
    obligation_id: ObligationId, body: ProgressIn, uow: Uow, scope: CurrentScope
) -> ObligationOut:
    """Report progress on an obligation with the version read (409 when someone changed it since). Done by the due date counts as on time; publishes `task.completed` when done."""
    await check_obligation(uow.session, obligation_id, scope)
    obligation = await progress.report_progress(uow, obligation_id, body)
    await uow.commit()
    return ObligationOut.model_validate(obligation)


@router.get(
    "/obligations/{obligation_id}/occurrences",
    response_model=list[OccurrenceOut],
    tags=["progress"],
    summary="An obligation's due dates, each with its progress",
)
async def list_occurrences(obligation_id: ObligationId, uow: Uow, scope: CurrentScope) -> list[OccurrenceOut]:
    """The due dates of a recurring obligation (a monthly report owes twelve), each with its own progress."""
    found = await progress.list_occurrences(uow.session, obligation_id, scope)
    return [OccurrenceOut.model_validate(o) for o in found]


@router.get("/occurrences/{occurrence_id}", response_model=OccurrenceOut, tags=["progress"], summary="One occurrence")
async def get_occurrence(occurrence_id: OccurrenceId, uow: Uow, scope: CurrentScope) -> OccurrenceOut:
    """One due date of an obligation with its progress (404 when unknown)."""
    await check_occurrence(uow.session, occurrence_id, scope)
    return OccurrenceOut.model_validate(await progress.get_occurrence(uow.session, occurrence_id))


@router.patch(
    "/occurrences/{occurrence_id}",
    response_model=OccurrenceOut,
    tags=["progress"],
    summary="Report progress on one due date of an obligation (version required)",
)
async def report_occurrence(
    occurrence_id: OccurrenceId, body: ProgressIn, uow: Uow, scope: CurrentScope
) -> OccurrenceOut:
    """Report progress on one due date of a recurring obligation, with the version read (409 when it changed since)."""
    await check_occurrence(uow.session, occurrence_id, scope)
    occurrence = await progress.report_occurrence(uow, occurrence_id, body)
    await uow.commit()
    return OccurrenceOut.model_validate(occurrence)


# --------------------------------------------------------------------------- targets


@router.get(
    "/plans/{plan_id}/targets",
    response_model=list[TargetOut],
    tags=["targets"],
    summary="A plan's targets and suggestions",
)
async def list_targets(
    plan_id: PlanId,
    uow: Uow,
    scope: CurrentScope,
    status: Annotated[TargetStatus | None, Query(description="Only suggested or only confirmed targets")] = None,
) -> list[TargetOut]:
    """A plan's targets (chỉ tiêu): the ones suggested from its text, to confirm, and the confirmed ones."""
    await check_plan(uow.session, plan_id, scope)
    return [TargetOut.model_validate(t) for t in await targets.list_targets(uow.session, plan_id, status=status)]


@router.post(
    "/plans/{plan_id}/targets", response_model=TargetOut, status_code=201, tags=["targets"], summary="Set a target"
)
async def set_target(plan_id: PlanId, body: TargetIn, uow: Uow, scope: CurrentScope) -> TargetOut:
    """Set a target of a plan or of one of its nodes: a metric, an operator and a value for a period, optionally for one level of units."""
    await check_plan(uow.session, plan_id, scope, change=True)
    target = await targets.set_target(uow, plan_id, body)
    await uow.commit()
    return TargetOut.model_validate(target)


@router.put(
    "/targets/{target_id}", response_model=TargetOut, tags=["targets"], summary="Change a target (version required)"
)
async def update_target(target_id: TargetId, body: TargetUpdate, uow: Uow, scope: CurrentScope) -> TargetOut:
    """Change a target with the version read (409 when it changed since); a confirmed target publishes `target.set` again."""
    await check_target(uow.session, target_id, scope, change=True)
    target = await targets.update_target(uow, target_id, body)
    await uow.commit()
    return TargetOut.model_validate(target)


@router.post(
    "/targets/{target_id}:confirm", response_model=TargetOut, tags=["targets"], summary="Confirm a suggested target"
)
async def confirm_target(
    target_id: TargetId,
    uow: Uow,
    scope: CurrentScope,
    version: Annotated[Id, Body(embed=True, description="The version the confirmer read (409 when it changed since)")],
) -> TargetOut:
    """Confirm a suggested target with the version read: it binds from now on and publishes `target.set`."""
    await check_target(uow.session, target_id, scope, change=True)
    target = await targets.confirm_target(uow, target_id, version)
    await uow.commit()
    return TargetOut.model_validate(target)


@router.delete(
    "/targets/{target_id}", status_code=204, tags=["targets"], summary="Discard a suggestion or withdraw a target"
)
async def delete_target(target_id: TargetId, uow: Uow, scope: CurrentScope) -> Response:
    """Remove a target."""
    await check_target(uow.session, target_id, scope, change=True)
    await targets.delete_target(uow, target_id)
    await uow.commit()
    return Response(status_code=204)


def _today(context: Context) -> date:
    return context.clock.now().astimezone(VN_TZ).date()


# --------------------------------------------------------------------------- API keys


KeyId = Annotated[str, Path(max_length=40, description="The key's id, or its visible prefix cchc_<id>")]


@router.post("/api-keys", response_model=keys.ApiKeyMade, status_code=201, tags=["api keys"], summary="Make an API key")
async def create_api_key(body: keys.ApiKeyIn, uow: Uow, principal: CurrentPrincipal) -> keys.ApiKeyMade:
    """The answer holds the key itself, this once; only its hash is kept. Every service accepts
    it within seconds (docs/security.md)."""
    made = await keys.create(uow, body)
    await uow.commit()
    return made


@router.get("/api-keys", response_model=list[keys.ApiKeyOut], tags=["api keys"], summary="Every API key")
async def list_api_keys(uow: Uow, principal: CurrentPrincipal) -> list[keys.ApiKeyOut]:
    """Every key, revoked and expired ones included, by its id and visible prefix (never the key itself)."""
    return await keys.listed(uow)


@router.get("/api-keys/{key_id}", response_model=keys.ApiKeyOut, tags=["api keys"], summary="One API key")
async def get_api_key(key_id: KeyId, uow: Uow, principal: CurrentPrincipal) -> keys.ApiKeyOut:
    """One key by its id or visible prefix (404 when unknown)."""
    return keys.to_out(await keys.get(uow, key_id))


@router.post("/api-keys/{key_id}:revoke", response_model=keys.ApiKeyOut, tags=["api keys"], summary="Revoke an API key")
async def revoke_api_key(key_id: KeyId, uow: Uow, principal: CurrentPrincipal) -> keys.ApiKeyOut:
    """Every service refuses the key within seconds; revoking it again changes nothing."""
    revoked = await keys.revoke(uow, key_id)
    await uow.commit()
    return revoked
