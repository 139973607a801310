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
from shared.auth import CurrentPrincipal
from shared.bounds import AgencyId, Day, Id, Slug
from shared.clock import VN_TZ
from shared.paging import Cursor, Limit
from shared.service import Context, Uow

router = APIRouter(prefix="/v1")


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
    principal: CurrentPrincipal,
) -> list[UnitImportResult]:
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
async def put_unit(code: AgencyId, body: UnitIn, uow: Uow, principal: CurrentPrincipal) -> UnitOut:
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
async def patch_unit(code: AgencyId, body: UnitPatch, uow: Uow, principal: CurrentPrincipal) -> UnitOut:
    unit = await service.patch_unit(uow, code, body)
    await uow.commit()
    return UnitOut.model_validate(unit)


@router.get("/units/{code}", response_model=UnitOut, tags=["units"], summary="One unit")
async def get_unit(code: str, uow: Uow, principal: CurrentPrincipal) -> UnitOut:
    return UnitOut.model_validate(await service.get_unit(uow.session, code))


@router.delete("/units/{code}", status_code=204, tags=["units"], summary="Remove a unit nothing refers to")
async def delete_unit(code: str, uow: Uow, principal: CurrentPrincipal) -> Response:
    await service.delete_unit(uow, code)
    await uow.commit()
    return Response(status_code=204)


@router.get("/units", response_model=UnitPage, tags=["units"], summary="Units by code, optionally by level or parent")
async def list_units(
    uow: Uow,
    principal: CurrentPrincipal,
    level: UnitLevel | None = None,
    parent_code: str | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> UnitPage:
    def fetch(after: str | None, size: int) -> Any:
        return service.list_units(uow.session, level=level, parent_code=parent_code, after=after, limit=size)

    units, next_cursor = await queries.by_code(fetch, lambda u: u.code, cursor, limit)
    return UnitPage(items=[UnitOut.model_validate(u) for u in units], next_cursor=next_cursor)


@router.put("/unit-groups/{code}", response_model=UnitGroupOut, tags=["units"], summary="Define a unit group")
async def put_group(code: Slug, body: UnitGroupIn, uow: Uow, principal: CurrentPrincipal) -> UnitGroupOut:
    group = await service.upsert_group(uow, code, body)
    await uow.commit()
    return group


@router.get(
    "/unit-groups/{code}", response_model=UnitGroupOut, tags=["units"], summary="One unit group with its members"
)
async def get_group(code: str, uow: Uow, principal: CurrentPrincipal) -> UnitGroupOut:
    return await service.get_group(uow.session, code)


@router.get(
    "/unit-groups", response_model=UnitGroupPage, tags=["units"], summary="Unit groups by code, optionally of one owner"
)
async def list_groups(
    uow: Uow, principal: CurrentPrincipal, owner_code: str | None = None, cursor: Cursor = None, limit: Limit = 100
) -> UnitGroupPage:
    def fetch(after: str | None, size: int) -> Any:
        return service.list_groups(uow.session, owner_code=owner_code, after=after, limit=size)

    groups, next_cursor = await queries.by_code(fetch, lambda g: g.code, cursor, limit)
    return UnitGroupPage(items=groups, next_cursor=next_cursor)


@router.delete("/unit-groups/{code}", status_code=204, tags=["units"], summary="Remove a unit group")
async def delete_group(code: str, uow: Uow, principal: CurrentPrincipal) -> Response:
    await service.delete_group(uow, code)
    await uow.commit()
    return Response(status_code=204)


@router.get(
    "/units/{code}/obligations", response_model=OwedPage, tags=["queries"], summary="What a unit owes between two dates"
)
async def unit_obligations(
    code: str,
    context: Context,
    uow: Uow,
    principal: CurrentPrincipal,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> OwedPage:
    return await queries.owed(uow.session, code, start, end, _today(context), cursor=cursor, limit=limit)


@router.get("/units/{code}/overdue", response_model=OwedPage, tags=["queries"], summary="A unit's overdue obligations")
async def unit_overdue(
    code: str, context: Context, uow: Uow, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 100
) -> OwedPage:
    return await queries.overdue(uow.session, code, _today(context), cursor=cursor, limit=limit)


# --------------------------------------------------------------------------- plans


@router.post(
    "/plans:import", response_model=ImportReport, tags=["plans"], summary="Import a plan's appendix table (CSV or XLSX)"
)
async def import_plan(
    context: Context,
    uow: Uow,
    principal: CurrentPrincipal,
    file: Annotated[
        UploadFile, File(description="the appendix table: .csv (UTF-8, UTF-8 with BOM, Windows-1258) or .xlsx")
    ],
    form: Annotated[PlanImportIn, Form()],
) -> ImportReport:
    importing.check_size(file.size, context.settings.plans_import_max_bytes)
    report = await importing.import_plan(uow, file.file, file.filename or "table.csv", form)
    await uow.commit()
    return report


@router.post("/plans", response_model=PlanOut, status_code=201, tags=["plans"], summary="Create a draft plan")
async def create_plan(body: PlanIn, uow: Uow, principal: CurrentPrincipal) -> PlanOut:
    plan = await planning.create_plan(uow, body)
    await uow.commit()
    return PlanOut.model_validate(plan)


@router.get("/plans", response_model=PlanPage, tags=["plans"], summary="Plans, newest first")
async def list_plans(
    uow: Uow,
    principal: CurrentPrincipal,
    issuer_code: str | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: PlanStatus | None = None,
    parent_id: Id | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PlanPage:
    return await queries.list_plans(
        uow.session, issuer_code=issuer_code, year=year, status=status, parent_id=parent_id, cursor=cursor, limit=limit
    )


@router.get("/plans/{plan_id}", response_model=PlanOut, tags=["plans"], summary="One plan")
async def get_plan(plan_id: Id, uow: Uow, principal: CurrentPrincipal) -> PlanOut:
    return PlanOut.model_validate(await planning.get_plan(uow.session, plan_id))


@router.get(
    "/plans/{plan_id}/tree",
    response_model=PlanTree,
    tags=["plans"],
    summary="A plan's tree with obligations and progress",
)
async def plan_tree(plan_id: Id, uow: Uow, principal: CurrentPrincipal) -> PlanTree:
    return await planning.plan_tree(uow.session, plan_id)


@router.post(
    "/plans/{plan_id}/nodes", response_model=NodeOut, status_code=201, tags=["plans"], summary="Add a node by hand"
)
async def add_node(plan_id: Id, body: NodeIn, uow: Uow, principal: CurrentPrincipal) -> NodeOut:
    node = await planning.add_node(uow, plan_id, body)
    await uow.commit()
    return node


@router.patch(
    "/nodes/{node_id}",
    response_model=NodeOut,
    tags=["plans"],
    summary="Change a node's schedule or the parent plan's task it implements (child plans follow)",
)
async def change_node(node_id: Id, body: NodeUpdate, uow: Uow, principal: CurrentPrincipal) -> NodeOut:
    node = await cascade.change_node(uow, node_id, body)
    await uow.commit()
    return node


@router.post("/plans/{plan_id}:publish", response_model=PlanOut, tags=["plans"], summary="Publish a draft plan")
async def publish_plan(plan_id: Id, context: Context, uow: Uow, principal: CurrentPrincipal) -> PlanOut:
    plan = await planning.publish_plan(uow, plan_id, policy=ReminderPolicy.of(context.settings))
    await uow.commit()
    return PlanOut.model_validate(plan)


@router.post("/plans/{plan_id}:close", response_model=PlanOut, tags=["plans"], summary="Close a published plan")
async def close_plan(plan_id: Id, uow: Uow, principal: CurrentPrincipal) -> PlanOut:
    plan = await planning.close_plan(uow, plan_id)
    await uow.commit()
    return PlanOut.model_validate(plan)


@router.get("/tasks", response_model=TaskPage, tags=["queries"], summary="Search tasks and activities by text")
async def search_tasks(
    uow: Uow,
    principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, description="words to find, diacritics optional")],
    plan_id: Id | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TaskPage:
    return await queries.search_tasks(uow.session, q, plan_id=plan_id, cursor=cursor, limit=limit)


# --------------------------------------------------------------------------- progress


@router.get("/obligations/{obligation_id}", response_model=ObligationOut, tags=["progress"], summary="One obligation")
async def get_obligation(obligation_id: Id, uow: Uow, principal: CurrentPrincipal) -> ObligationOut:
    return ObligationOut.model_validate(await progress.get_obligation(uow.session, obligation_id))


@router.patch(
    "/obligations/{obligation_id}",
    response_model=ObligationOut,
    tags=["progress"],
    summary="Report progress (version required)",
)
async def report_progress(obligation_id: Id, body: ProgressIn, uow: Uow, principal: CurrentPrincipal) -> ObligationOut:
    obligation = await progress.report_progress(uow, obligation_id, body)
    await uow.commit()
    return ObligationOut.model_validate(obligation)


@router.get(
    "/obligations/{obligation_id}/occurrences",
    response_model=list[OccurrenceOut],
    tags=["progress"],
    summary="An obligation's due dates, each with its progress",
)
async def list_occurrences(obligation_id: Id, uow: Uow, principal: CurrentPrincipal) -> list[OccurrenceOut]:
    return [OccurrenceOut.model_validate(o) for o in await progress.list_occurrences(uow.session, obligation_id)]


@router.get("/occurrences/{occurrence_id}", response_model=OccurrenceOut, tags=["progress"], summary="One occurrence")
async def get_occurrence(occurrence_id: Id, uow: Uow, principal: CurrentPrincipal) -> OccurrenceOut:
    return OccurrenceOut.model_validate(await progress.get_occurrence(uow.session, occurrence_id))


@router.patch(
    "/occurrences/{occurrence_id}",
    response_model=OccurrenceOut,
    tags=["progress"],
    summary="Report progress on one due date of an obligation (version required)",
)
async def report_occurrence(
    occurrence_id: Id, body: ProgressIn, uow: Uow, principal: CurrentPrincipal
) -> OccurrenceOut:
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
    plan_id: Id, uow: Uow, principal: CurrentPrincipal, status: TargetStatus | None = None
) -> list[TargetOut]:
    return [TargetOut.model_validate(t) for t in await targets.list_targets(uow.session, plan_id, status=status)]


@router.post(
    "/plans/{plan_id}/targets", response_model=TargetOut, status_code=201, tags=["targets"], summary="Set a target"
)
async def set_target(plan_id: Id, body: TargetIn, uow: Uow, principal: CurrentPrincipal) -> TargetOut:
    target = await targets.set_target(uow, plan_id, body)
    await uow.commit()
    return TargetOut.model_validate(target)


@router.put(
    "/targets/{target_id}", response_model=TargetOut, tags=["targets"], summary="Change a target (version required)"
)
async def update_target(target_id: Id, body: TargetUpdate, uow: Uow, principal: CurrentPrincipal) -> TargetOut:
    target = await targets.update_target(uow, target_id, body)
    await uow.commit()
    return TargetOut.model_validate(target)


@router.post(
    "/targets/{target_id}:confirm", response_model=TargetOut, tags=["targets"], summary="Confirm a suggested target"
)
async def confirm_target(
    target_id: Id, uow: Uow, principal: CurrentPrincipal, version: Annotated[Id, Body(embed=True)]
) -> TargetOut:
    target = await targets.confirm_target(uow, target_id, version)
    await uow.commit()
    return TargetOut.model_validate(target)


@router.delete(
    "/targets/{target_id}", status_code=204, tags=["targets"], summary="Discard a suggestion or withdraw a target"
)
async def delete_target(target_id: Id, uow: Uow, principal: CurrentPrincipal) -> Response:
    await targets.delete_target(uow, target_id)
    await uow.commit()
    return Response(status_code=204)


def _today(context: Context) -> date:
    return context.clock.now().astimezone(VN_TZ).date()


# --------------------------------------------------------------------------- API keys


@router.post("/api-keys", response_model=keys.ApiKeyMade, status_code=201, tags=["api keys"], summary="Make an API key")
async def create_api_key(body: keys.ApiKeyIn, uow: Uow, principal: CurrentPrincipal) -> keys.ApiKeyMade:
    """The answer holds the key itself, this once; only its hash is kept. Every service accepts
    it within seconds (docs/security.md)."""
    made = await keys.create(uow, body)
    await uow.commit()
    return made


@router.get("/api-keys", response_model=list[keys.ApiKeyOut], tags=["api keys"], summary="Every API key")
async def list_api_keys(uow: Uow, principal: CurrentPrincipal) -> list[keys.ApiKeyOut]:
    return await keys.listed(uow)


@router.get("/api-keys/{key_id}", response_model=keys.ApiKeyOut, tags=["api keys"], summary="One API key")
async def get_api_key(
    key_id: Annotated[str, Path(max_length=40)], uow: Uow, principal: CurrentPrincipal
) -> keys.ApiKeyOut:
    return keys.to_out(await keys.get(uow, key_id))


@router.post("/api-keys/{key_id}:revoke", response_model=keys.ApiKeyOut, tags=["api keys"], summary="Revoke an API key")
async def revoke_api_key(
    key_id: Annotated[str, Path(max_length=40)], uow: Uow, principal: CurrentPrincipal
) -> keys.ApiKeyOut:
    """Every service refuses the key within seconds; revoking it again changes nothing."""
    revoked = await keys.revoke(uow, key_id)
    await uow.commit()
    return revoked
