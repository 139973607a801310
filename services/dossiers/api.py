"""REST routes of the dossiers service (mounted at ``/dossiers``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import Field

from services.dossiers import office_hours, push_signing, queries, reference_data, service, views
from services.dossiers.codes import Channel, Timeliness
from services.dossiers.dvcqg import EXAMPLES, SERVICES, CapNhatTienDoHoSoMC, DongBoHoSoMC
from services.dossiers.schemas import (
    APOLOGY_DUE,
    APOLOGY_DUE_BEFORE,
    ApologyBefore,
    ApologyDay,
    CalendarDayIn,
    CalendarDayOut,
    CalendarYear,
    DossierOut,
    DossierPage,
    DueOut,
    IntakeIn,
    OfficeHoursIn,
    OfficeHoursOut,
    ProcedureIn,
    ProcedureOut,
    ProcedurePage,
    PushSecretOut,
    SyncReport,
    TransitionIn,
    UnitCode,
    in_vietnamese,
)
from services.dossiers.settings import DossiersSettings
from services.dossiers.sync import ingest
from services.dossiers.sync.ingest import Outcome
from shared.auth import ADMIN, CurrentPrincipal, Principal
from shared.bounds import Day, FromInstant, Instant, Slug, ToInstant
from shared.calendar import DurationUnit
from shared.clock import VN_TZ
from shared.instants import Several
from shared.openapi import read_body
from shared.paging import NEXT_LINK, Cursor, Limit, decode_cursor, next_cursor, next_link
from shared.problems import DomainError, Forbidden, NotFound
from shared.responses import JSONBytes
from shared.scope import CurrentScope, Scope
from shared.service import Context, ServiceContext, Uow

router = APIRouter(prefix="/v1")
DayPath = Annotated[Day, Path(description="The day, YYYY-MM-DD")]
MaTTHC = Annotated[str, Path(description="Mã TTHC: the procedure's code in the national catalogue, e.g. 1.001612")]
MaHoSo = Annotated[str, Path(description="Mã hồ sơ: the dossier's national id, e.g. 000.00.12.H42-240415-0007")]
UnitPath = Annotated[UnitCode, Path(description="A unit code, e.g. 000.00.12.H42")]
KeyIdPath = Annotated[Slug, Path(description="The integration API key's id")]


class VietnameseErrors(APIRoute):
    """A route whose invalid requests are answered in Vietnamese (field paths and types unchanged)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise RequestValidationError(
                    in_vietnamese(exc.errors()), body=exc.body, endpoint_ctx=exc.endpoint_ctx
                ) from None

        return answer


office_hours_router = APIRouter(route_class=VietnameseErrors, tags=["calendar"])


class BatchTooLarge(DomainError):
    status = 413
    code = "batch_too_large"


# --- dossiers -----------------------------------------------------------------------------------
# A request is matched against the routes in order, a few microseconds each (FastAPI's included
# routers): the reads citizens and dashboards make most come first (docs/performance.md, "Reads").


@router.get(
    "/dossiers/{ma_ho_so}", response_model=DossierOut, tags=["dossiers"], summary="One dossier with its history"
)
async def get_dossier(ma_ho_so: MaHoSo, context: Context, scope: CurrentScope) -> Response:
    """One dossier by MaHoSo, with its status history, pauses, due-time history and apology letter (404 when unknown)."""
    # written once from the row (``views``), not validated into DossierOut and out again
    return JSONBytes(views.dossier_json(await queries.get_row(context.db, ma_ho_so, scope), scope))


async def dossier_body(context: ServiceContext, params: Mapping[str, str], scope: Scope) -> bytes | None:
    """:func:`get_dossier`'s 200 as a hot read (``shared/hot_reads.py``); None when there is no
    such dossier in ``scope``, for the route to answer its 404."""
    try:
        row = await queries.get_row(context.db, params["ma_ho_so"], scope)
    except NotFound:
        return None
    return views.dossier_json(row, scope)


@router.get(
    "/dossiers",
    response_model=DossierPage,
    tags=["dossiers"],
    summary="Dossiers by unit, status, timeliness...",
    responses={200: {"headers": NEXT_LINK}},
)
async def list_dossiers(
    request: Request,
    context: Context,
    uow: Uow,
    scope: CurrentScope,
    unit: Annotated[str | None, Query(description="A unit code; its sub-units are included")] = None,
    status: Annotated[
        Several[Annotated[int, Field(ge=1, le=10)]] | None,
        Query(description="TrangThaiHoSo codes, repeated or separated by commas (status=4,5)"),
    ] = None,
    timeliness: Annotated[
        Several[Timeliness] | None, Query(description="Timeliness values, repeated or separated by commas")
    ] = None,
    procedure: Annotated[str | None, Query(description="MaTTHC")] = None,
    channel: Annotated[Channel | None, Query(description="KenhThucHien: 1 in person, 2 online, 3 by post")] = None,
    received_from: Annotated[FromInstant | None, Query(description="Received at or after")] = None,
    received_to: Annotated[ToInstant | None, Query(description="Received before")] = None,
    due_from: Annotated[FromInstant | None, Query(description="Due at or after")] = None,
    due_to: Annotated[ToInstant | None, Query(description="Due before")] = None,
    apology_due: Annotated[ApologyDay | None, Query(description=APOLOGY_DUE)] = None,
    apology_due_before: Annotated[ApologyBefore | None, Query(description=APOLOGY_DUE_BEFORE)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Dossiers in MaHoSo order, paged by cursor, filtered by unit (sub-units included), status, timeliness,
    procedure, channel, receipt or due time (an instant, or a date alone for that day in Vietnam time) and the
    apology deadline: `apology_due=today` answers the officer's morning question, which apologies are due today;
    `apology_due_before=today` adds the ones already missed (docs/dossiers.md, *Late detection*). The `Link`
    header names the next page, so a client reading every page can ask for it before reading this body."""
    where = queries.DossierFilter(
        unit=unit,
        status=status,
        timeliness=timeliness,
        procedure=procedure,
        channel=channel,
        received_from=received_from,
        received_to=received_to,
        due_from=due_from,
        due_to=due_to,
        apology_due=apology_due,
        apology_due_before=apology_due_before,
    )
    rows, next_cursor = await queries.list_rows(
        uow.session, where, now=uow.clock.now(), limit=limit, cursor=cursor, scope=scope, db=context.db
    )
    return JSONBytes(views.page_json(rows, next_cursor, scope), headers=next_link(request, next_cursor))


@router.post(
    "/dossiers", response_model=DossierOut, status_code=201, tags=["dossiers"], summary="Receive a dossier at the desk"
)
async def receive_dossier(body: IntakeIn, uow: Uow, scope: CurrentScope) -> DossierOut:
    """Receive a dossier at this desk: it gets its MaHoSo (the agency, the day, the next sequence), its due time from the procedure's legal time in the unit's office hours, and publishes `dossier.received`."""
    dossier = await service.receive(uow, body, scope)
    await uow.commit()
    return queries.to_out(dossier.to_row(), scope)


@router.post(
    "/dossiers/{ma_ho_so}/transitions",
    response_model=DossierOut,
    tags=["dossiers"],
    summary="Move a dossier to another status",
)
async def transition(ma_ho_so: MaHoSo, body: TransitionIn, uow: Uow, scope: CurrentScope) -> DossierOut:
    """Move a dossier to another status (TrangThaiHoSo) along the legal moves; a move the status machine forbids is a 409. Supplement requests pause the clock; an end of processing decides its timeliness and publishes `dossier.resolved`."""
    dossier = await service.transition(uow, ma_ho_so, body, scope)
    await uow.commit()
    return queries.to_out(dossier.to_row(), scope)


# --- working-time calendar --------------------------------------------------------------------


@router.get("/calendar/due", response_model=DueOut, tags=["calendar"], summary="When a legal duration ends")
async def calendar_due(
    uow: Uow,
    scope: CurrentScope,
    start: Annotated[Instant, Query(description="When the count starts (ISO 8601 with offset)")],
    amount: Annotated[float, Query(ge=0, le=3650, description="How much time (0 days: the same day)")],
    unit: Annotated[DurationUnit, Query(description="working_days, working_hours or days (calendar days)")],
    same_day: Annotated[
        bool, Query(description="Apply the same-day cut-off (15:00 unless the unit's hours say otherwise)")
    ] = False,
    unit_code: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Count in this unit's office hours (its own or its nearest ancestor's); default hours without it",
        ),
    ] = None,
) -> DueOut:
    """When a legal duration that starts at `start` ends in working time: working days of 8 working hours inside the office windows, working hours, or calendar days (an end on a day off moves to the next working day). A start outside office hours counts from the next opening (`counted_from`)."""
    if unit_code is not None:
        scope.check(unit_code, f"No unit {unit_code} in your scope.", field="unit_code")
    calendars = await office_hours.load_calendars(uow.session)
    calendar = calendars.of(unit_code)
    try:
        due = calendar.add(start, amount, unit, same_day=same_day)
    except ValueError as exc:
        raise DomainError(str(exc), errors=[{"field": "amount", "message": str(exc)}]) from None
    return DueOut(
        start=start,
        counted_from=calendar.start_of_count(start, same_day=same_day).astimezone(VN_TZ),
        due=due.astimezone(VN_TZ),
        hours_set_on=calendars.hours_set_on(unit_code),
    )


@router.get(
    "/calendar/days",
    response_model=CalendarYear,
    tags=["calendar"],
    summary="Days off and working weekend days of a year",
)
async def calendar_days(
    uow: Uow, principal: CurrentPrincipal, year: Annotated[int, Query(ge=2000, le=2100, description="The year")]
) -> CalendarYear:
    """The weekdays off (holidays, observed and declared days off) and the weekend days worked of a year, and the administrator's overrides among them."""
    return await reference_data.calendar_year(uow.session, year)


@router.put(
    "/calendar/days/{day}", response_model=CalendarDayOut, tags=["calendar"], summary="Declare a day worked or off"
)
async def put_calendar_day(day: DayPath, body: CalendarDayIn, uow: Uow, scope: CurrentScope) -> CalendarDayOut:
    """Declare a day worked (a make-up Saturday) or off (an extra holiday), overriding the VN holiday calendar. Publishes `calendar.changed`; open dossiers received here get their due time derived again."""
    scope.require_whole_system("The working-time calendar")
    override = await reference_data.set_calendar_day(uow, day, body)
    await uow.commit()
    return CalendarDayOut(
        date=override.day, working=override.working, reason=override.reason, updated_at=override.updated_at
    )


@router.delete("/calendar/days/{day}", status_code=204, tags=["calendar"], summary="Withdraw an override")
async def delete_calendar_day(day: DayPath, uow: Uow, scope: CurrentScope) -> Response:
    """Withdraw an administrator's override: the day follows the VN holiday calendar again (404 when there is none)."""
    scope.require_whole_system("The working-time calendar")
    await reference_data.remove_calendar_day(uow, day)
    await uow.commit()
    return Response(status_code=204)


@office_hours_router.get("/calendar/units/{unit}/hours", response_model=OfficeHoursOut, summary="A unit's office hours")
async def get_office_hours(unit: UnitPath, uow: Uow, scope: CurrentScope) -> OfficeHoursOut:
    """The hours the unit works: its own, else its nearest ancestor's (`set_on`), else the default ones."""
    scope.check(unit, f"No unit {unit} in your scope.")
    return await office_hours.office_hours_of(uow.session, unit)


@office_hours_router.put(
    "/calendar/units/{unit}/hours", response_model=OfficeHoursOut, summary="Set a unit's office hours"
)
async def put_office_hours(unit: UnitPath, body: OfficeHoursIn, uow: Uow, scope: CurrentScope) -> OfficeHoursOut:
    """Its sub-units without hours of their own follow. Publishes `calendar.changed`; the open dossiers
    received here by the units concerned get their due time derived again (`dossier.rescheduled`)."""
    scope.check(unit, f"No unit {unit} in your scope.")
    hours = await office_hours.set_office_hours(uow, unit, body)
    await uow.commit()
    return hours


@office_hours_router.delete(
    "/calendar/units/{unit}/hours", status_code=204, summary="Withdraw a unit's own office hours"
)
async def delete_office_hours(unit: UnitPath, uow: Uow, scope: CurrentScope) -> Response:
    """Withdraw a unit's own office hours (404 when it has none): it works its nearest ancestor's, or the default ones, again. Publishes and re-dates as setting them does."""
    scope.check(unit, f"No unit {unit} in your scope.")
    await office_hours.remove_office_hours(uow, unit)
    await uow.commit()
    return Response(status_code=204)


router.include_router(office_hours_router)


# --- procedures ---------------------------------------------------------------------------------


@router.put(
    "/procedures/{ma_tthc}", response_model=ProcedureOut, tags=["procedures"], summary="Register or change a procedure"
)
async def put_procedure(ma_tthc: MaTTHC, body: ProcedureIn, uow: Uow, scope: CurrentScope) -> ProcedureOut:
    """Register a procedure of the catalogue, or change it: its legal processing time (from which a dossier received here gets its due time), same-day cut-off, fees and level."""
    scope.require_whole_system("The procedure catalogue")
    procedure = await reference_data.upsert_procedure(uow, ma_tthc, body)
    await uow.commit()
    return ProcedureOut.model_validate(procedure)


@router.get("/procedures/{ma_tthc}", response_model=ProcedureOut, tags=["procedures"], summary="One procedure")
async def get_procedure(ma_tthc: MaTTHC, uow: Uow, principal: CurrentPrincipal) -> ProcedureOut:
    """One procedure of the catalogue by its MaTTHC (404 when unknown)."""
    return ProcedureOut.model_validate(await reference_data.get_procedure(uow.session, ma_tthc))


@router.get(
    "/procedures", response_model=ProcedurePage, tags=["procedures"], summary="The procedure catalogue, by MaTTHC"
)
async def list_procedures(
    uow: Uow, principal: CurrentPrincipal, limit: Limit = 100, cursor: Cursor = None
) -> ProcedurePage:
    """The procedure catalogue in MaTTHC order, paged by cursor."""
    after = decode_cursor(cursor)
    found = await reference_data.list_procedures(uow.session, after=str(after[0]) if after else None, limit=limit + 1)
    page = found[:limit]
    return ProcedurePage(
        items=[ProcedureOut.model_validate(p) for p in page], next_cursor=next_cursor(found, limit, lambda p: p.ma_tthc)
    )


# --- provincial push ----------------------------------------------------------------------------


@router.post(
    "/sync/dvcqg",
    response_model=SyncReport,
    tags=["sync"],
    summary="Push DongBoHoSoMC or CapNhatTienDoHoSoMC records",
    responses={413: {"description": "The body or the batch is larger than the configured limits: split it"}},
    openapi_extra=read_body([DongBoHoSoMC, CapNhatTienDoHoSoMC], EXAMPLES),
)
async def sync_dvcqg(
    request: Request, uow: Uow, context: Context, scope: CurrentScope, principal: CurrentPrincipal
) -> Response:
    """The provincial one-stop system's push, in the national sync format: a batch of dossiers
    (`DongBoHoSoMC`: created or updated by MaHoSo) or of processing steps (`CapNhatTienDoHoSoMC`).
    Timestamps are `yyyyMMddHHmmss` in Vietnam time. Answers per record, in the batch's order:
    `created`, `updated`, `unchanged` (a resend, or a copy older than what is stored) or `rejected`
    with field errors; the valid records are stored even when others are rejected. A body that is
    not such a batch is refused as a whole (400); one over the size or record limits gets 413."""
    body = await request.body()  # its size is bounded by CCHC_DOSSIERS_SYNC_MAX_BYTES (a 413 before it is read)
    settings = DossiersSettings.of(context.settings)
    await push_signing.check_push(uow, principal, body, dict(request.headers), settings)
    envelope = _read_envelope(body)
    data = envelope["data"]
    if len(data) > settings.dossiers_sync_max_records:
        raise BatchTooLarge(
            f"A batch holds at most {settings.dossiers_sync_max_records} records; split it.",
            errors=[{"field": "data", "message": f"{len(data)} records"}],
        )
    tolerance = timedelta(hours=settings.dossiers_future_tolerance_hours)
    if envelope["service"] == "DongBoHoSoMC":
        results = await ingest.ingest_dossiers(uow, data, tolerance=tolerance, scope=scope)
    else:
        results = await ingest.ingest_progress(uow, data, tolerance=tolerance, scope=scope)
    ingest.audit_batch(uow, "dossier.sync", envelope["service"], results)
    await uow.commit()
    counts = {o.value: 0 for o in Outcome}
    for result in results:
        counts[result.result.value] += 1
    report = {
        "service": envelope["service"],
        "received": len(data),
        **counts,
        "results": [x.as_json() for x in results],
    }
    return JSONBytes(orjson.dumps(report))


def _read_envelope(body: bytes) -> dict[str, Any]:
    try:
        envelope = orjson.loads(body)
    except ValueError:
        try:  # the slow reader takes a lone surrogate (\ud800), which then rejects its record alone
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise DomainError(
                f"The body is not JSON: {exc}", errors=[{"field": "", "message": "invalid JSON"}]
            ) from None
    errors = []
    if not isinstance(envelope, dict):
        raise DomainError("The body must be a JSON object.", errors=[{"field": "", "message": "expected an object"}])
    if envelope.get("service") not in SERVICES:
        errors.append({"field": "service", "message": f"must be one of {', '.join(SERVICES)}"})
    if not isinstance(envelope.get("data"), list):
        errors.append({"field": "data", "message": "must be a list of records"})
    if "isUpdating" in envelope and not isinstance(envelope["isUpdating"], bool):
        errors.append({"field": "isUpdating", "message": "must be true or false"})
    if errors:
        raise DomainError("The envelope is not a DongBoHoSoMC/CapNhatTienDoHoSoMC batch.", errors=errors)
    return envelope


@router.put(
    "/sync/keys/{key_id}/secret",
    response_model=PushSecretOut,
    tags=["sync"],
    summary="Set or rotate the secret an integration key signs its pushes with",
    description="Returns the new secret once. From now on the key's pushes must carry Standard Webhooks "
    "signature headers; the previous secret still verifies for `CCHC_DOSSIERS_PUSH_SECRET_OVERLAP_HOURS`. "
    "Administrators only.",
)
async def put_push_secret(key_id: KeyIdPath, uow: Uow, context: Context, principal: CurrentPrincipal) -> PushSecretOut:
    _admin_only(principal)
    row, secret = await push_signing.rotate_secret(uow, key_id, DossiersSettings.of(context.settings))
    await uow.commit()
    return PushSecretOut(key_id=key_id, secret=secret, updated_at=row.updated_at, previous_until=row.previous_until)


@router.delete(
    "/sync/keys/{key_id}/secret",
    status_code=204,
    tags=["sync"],
    summary="Withdraw a key's push secret: its pushes need no signature again. Administrators only.",
)
async def delete_push_secret(key_id: KeyIdPath, uow: Uow, principal: CurrentPrincipal) -> Response:
    """The key's pushes need no signature again (404 when it has no secret)."""
    _admin_only(principal)
    await push_signing.remove_secret(uow, key_id)
    await uow.commit()
    return Response(status_code=204)


def _admin_only(principal: Principal) -> None:
    if ADMIN not in principal.roles:
        raise Forbidden("Only an administrator manages push secrets.")
