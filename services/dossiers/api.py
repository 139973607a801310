"""REST routes of the dossiers service (mounted at ``/dossiers``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import Field

from services.dossiers import ingest, office_hours, queries, reference_data, service, views
from services.dossiers.codes import Channel, Timeliness
from services.dossiers.dvcqg import SERVICES
from services.dossiers.ingest import Outcome
from services.dossiers.schemas import (
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
    SyncReport,
    TransitionIn,
    UnitCode,
    in_vietnamese,
)
from shared.auth import CurrentPrincipal
from shared.bounds import Day, Instant
from shared.calendar import DurationUnit
from shared.clock import VN_TZ
from shared.paging import Cursor, Limit, decode_cursor, next_cursor
from shared.problems import DomainError
from shared.responses import JSONBytes
from shared.service import Context, Uow

router = APIRouter(prefix="/v1")
UnitPath = Annotated[UnitCode, Path(description="A unit code, e.g. 000.00.12.H42")]


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


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


# --- dossiers -----------------------------------------------------------------------------------
# A request is matched against the routes in order, a few microseconds each (FastAPI's included
# routers): the reads citizens and dashboards make most come first (docs/performance.md, "Reads").


@router.get(
    "/dossiers/{ma_ho_so}", response_model=DossierOut, tags=["dossiers"], summary="One dossier with its history"
)
async def get_dossier(ma_ho_so: str, context: Context, principal: CurrentPrincipal) -> Response:
    """The JSON is written once from the row (``views``), not validated into ``DossierOut`` and out again."""
    return JSONBytes(views.dossier_json(await queries.get_row(context.db, ma_ho_so)))


@router.get(
    "/dossiers", response_model=DossierPage, tags=["dossiers"], summary="Dossiers by unit, status, timeliness..."
)
async def list_dossiers(
    uow: Uow,
    principal: CurrentPrincipal,
    unit: Annotated[str | None, Query(description="A unit code; its sub-units are included")] = None,
    status: Annotated[list[Annotated[int, Field(ge=1, le=10)]] | None, Query(description="TrangThaiHoSo codes")] = None,
    timeliness: Annotated[list[Timeliness] | None, Query()] = None,
    procedure: Annotated[str | None, Query(description="MaTTHC")] = None,
    channel: Channel | None = None,
    received_from: Instant | None = None,
    received_to: Instant | None = None,
    due_from: Instant | None = None,
    due_to: Instant | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
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
    )
    rows, next_cursor = await queries.list_rows(uow.session, where, limit=limit, cursor=cursor)
    return JSONBytes(views.page_json(rows, next_cursor))


@router.post(
    "/dossiers", response_model=DossierOut, status_code=201, tags=["dossiers"], summary="Receive a dossier at the desk"
)
async def receive_dossier(body: IntakeIn, uow: Uow, principal: CurrentPrincipal) -> DossierOut:
    row = await service.receive(uow, body)
    await uow.commit()
    return views.to_out(row)


@router.post(
    "/dossiers/{ma_ho_so}/transitions",
    response_model=DossierOut,
    tags=["dossiers"],
    summary="Move a dossier to another status",
)
async def transition(ma_ho_so: str, body: TransitionIn, uow: Uow, principal: CurrentPrincipal) -> DossierOut:
    row = await service.transition(uow, ma_ho_so, body)
    await uow.commit()
    return views.to_out(row)


# --- working-time calendar --------------------------------------------------------------------


@router.get("/calendar/due", response_model=DueOut, tags=["calendar"], summary="When a legal duration ends")
async def calendar_due(
    uow: Uow,
    principal: CurrentPrincipal,
    start: Instant,
    amount: Annotated[float, Query(ge=0, le=3650)],
    unit: DurationUnit,
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
    uow: Uow, principal: CurrentPrincipal, year: Annotated[int, Query(ge=2000, le=2100)]
) -> CalendarYear:
    return await reference_data.calendar_year(uow.session, year)


@router.put(
    "/calendar/days/{day}", response_model=CalendarDayOut, tags=["calendar"], summary="Declare a day worked or off"
)
async def put_calendar_day(day: Day, body: CalendarDayIn, uow: Uow, principal: CurrentPrincipal) -> CalendarDayOut:
    override = await reference_data.set_calendar_day(uow, day, body)
    await uow.commit()
    return CalendarDayOut(
        date=override.day, working=override.working, reason=override.reason, updated_at=override.updated_at
    )


@router.delete("/calendar/days/{day}", status_code=204, tags=["calendar"], summary="Withdraw an override")
async def delete_calendar_day(day: Day, uow: Uow, principal: CurrentPrincipal) -> Response:
    await reference_data.remove_calendar_day(uow, day)
    await uow.commit()
    return Response(status_code=204)


@office_hours_router.get("/calendar/units/{unit}/hours", response_model=OfficeHoursOut, summary="A unit's office hours")
async def get_office_hours(unit: UnitPath, uow: Uow, principal: CurrentPrincipal) -> OfficeHoursOut:
    """The hours the unit works: its own, else its nearest ancestor's (`set_on`), else the default ones."""
    return await office_hours.office_hours_of(uow.session, unit)


@office_hours_router.put(
    "/calendar/units/{unit}/hours", response_model=OfficeHoursOut, summary="Set a unit's office hours"
)
async def put_office_hours(
    unit: UnitPath, body: OfficeHoursIn, uow: Uow, principal: CurrentPrincipal
) -> OfficeHoursOut:
    """Its sub-units without hours of their own follow. Publishes `calendar.changed`; the open dossiers
    received here by the units concerned get their due time derived again (`dossier.rescheduled`)."""
    hours = await office_hours.set_office_hours(uow, unit, body)
    await uow.commit()
    return hours


@office_hours_router.delete(
    "/calendar/units/{unit}/hours", status_code=204, summary="Withdraw a unit's own office hours"
)
async def delete_office_hours(unit: UnitPath, uow: Uow, principal: CurrentPrincipal) -> Response:
    await office_hours.remove_office_hours(uow, unit)
    await uow.commit()
    return Response(status_code=204)


router.include_router(office_hours_router)


# --- procedures ---------------------------------------------------------------------------------


@router.put(
    "/procedures/{ma_tthc}", response_model=ProcedureOut, tags=["procedures"], summary="Register or change a procedure"
)
async def put_procedure(ma_tthc: str, body: ProcedureIn, uow: Uow, principal: CurrentPrincipal) -> ProcedureOut:
    procedure = await reference_data.upsert_procedure(uow, ma_tthc, body)
    await uow.commit()
    return ProcedureOut.model_validate(procedure)


@router.get("/procedures/{ma_tthc}", response_model=ProcedureOut, tags=["procedures"], summary="One procedure")
async def get_procedure(ma_tthc: str, uow: Uow, principal: CurrentPrincipal) -> ProcedureOut:
    return ProcedureOut.model_validate(await reference_data.get_procedure(uow.session, ma_tthc))


@router.get(
    "/procedures", response_model=ProcedurePage, tags=["procedures"], summary="The procedure catalogue, by MaTTHC"
)
async def list_procedures(
    uow: Uow, principal: CurrentPrincipal, limit: Limit = 100, cursor: Cursor = None
) -> ProcedurePage:
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
    description="Answers per record: `created`, `updated`, `unchanged` (a resend or an older copy) or `rejected` "
    "with field errors. Valid records are stored even when others in the batch are rejected.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def sync_dvcqg(request: Request, uow: Uow, context: Context, principal: CurrentPrincipal) -> Response:
    envelope = await _read_envelope(request, context.settings.dossiers_sync_max_bytes)
    data = envelope["data"]
    if len(data) > context.settings.dossiers_sync_max_records:
        raise PayloadTooLarge(
            f"A batch holds at most {context.settings.dossiers_sync_max_records} records; split it.",
            errors=[{"field": "data", "message": f"{len(data)} records"}],
        )
    tolerance = timedelta(hours=context.settings.dossiers_future_tolerance_hours)
    if envelope["service"] == "DongBoHoSoMC":
        results = await ingest.ingest_dossiers(uow, data, tolerance=tolerance)
    else:
        results = await ingest.ingest_progress(uow, data, tolerance=tolerance)
    await uow.commit()
    counts = {o.value: 0 for o in Outcome}
    for result in results:
        counts[result.result.value] += 1
    body = {"service": envelope["service"], "received": len(data), **counts, "results": [x.as_json() for x in results]}
    return JSONBytes(orjson.dumps(body))


async def _read_envelope(request: Request, max_bytes: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
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
