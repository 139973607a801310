"""The audit log's REST route, the same in every service: ``GET /<service>/v1/audit`` (admins only).

There is no route that changes or removes an entry, and the database refuses to (``shared.audit``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, PlainValidator, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, select

from shared.auth import ADMIN, CurrentPrincipal
from shared.bounds import Day, Instant, Text
from shared.clock import VN_TZ
from shared.paging import Cursor, Limit, decode_cursor, encode_cursor
from shared.problems import DomainError, Forbidden
from shared.service import Context, Uow

ROLES_EXTENSION = "x-cchc-roles"  # the roles a route admits, in its OpenAPI operation
AUDIT_ROLES = [ADMIN]

router = APIRouter(prefix="/v1", tags=["audit"])
_DAY, _INSTANT = TypeAdapter(Day), TypeAdapter(Instant)


def _day_or_instant(value: object) -> date | datetime:
    """A day (``2026-03-02``) or an instant with its offset (``2026-03-02T08:00:00+07:00``)."""
    try:
        if isinstance(value, str) and len(value) == 10:
            return _DAY.validate_python(value)
        return _INSTANT.validate_python(value)
    except ValidationError:
        raise PydanticCustomError(
            "day_or_instant", "expected a day (2026-03-02) or an instant with its offset, between 2000 and 2099"
        ) from None


DayOrInstant = Annotated[
    date | datetime,
    PlainValidator(_day_or_instant),
    WithJsonSchema({"type": "string", "examples": ["2026-03-02", "2026-03-02T08:00:00+07:00"]}),
]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime = Field(description="When the change was made (the service's clock), Vietnam time")
    actor: str = Field(description="The principal's subject, or `system` for what consumers and schedulers do")
    actor_roles: list[str]
    actor_unit: str | None = Field(description="The unit the principal is scoped to; null: the whole system")
    key_id: str | None = Field(description="The API key's id when the principal authenticated with one")
    action: str = Field(examples=["dossier.transition"])
    object_type: str = Field(examples=["dossier"])
    object_id: str
    client_address: str | None
    request_id: str | None
    event_id: str | None = Field(description="The event being handled, for what the system did on one")
    changes: dict[str, Any] = Field(description="What changed: a field's `[before, after]`, or a summary")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="The audit log, newest first (admins only)",
    openapi_extra={ROLES_EXTENSION: AUDIT_ROLES},
)
async def audit_log(
    context: Context,
    uow: Uow,
    principal: CurrentPrincipal,
    actor: Annotated[Text | None, Query(max_length=200, description="A principal's subject, or `system`")] = None,
    object_: Annotated[
        Text | None,
        Query(alias="object", max_length=241, description="An object type (`dossier`) or a type and id (`dossier:ID`)"),
    ] = None,
    action: Annotated[
        Text | None, Query(max_length=64, description="An action (`dossier.transition`) or a family (`dossier.*`)")
    ] = None,
    start: Annotated[
        DayOrInstant | None,
        Query(alias="from", description="From this instant, or the start of this day (Vietnam time)"),
    ] = None,
    end: Annotated[
        DayOrInstant | None,
        Query(alias="to", description="Before this instant, or up to the end of this day (Vietnam time)"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> AuditPage:
    """Who changed what, to which object, from where and when: one entry per audited change
    (docs/security.md, *Audit log*). Never editable: the log has no other route."""
    if ADMIN not in principal.roles:
        raise Forbidden("The audit log is for administrators.")
    table = context.definition.tables.audit_log
    where: list[ColumnElement[bool]] = []
    if actor is not None:
        where.append(table.c.actor == actor)
    if object_ is not None:
        object_type, _, object_id = object_.partition(":")
        if not object_type:
            raise _bad_filter("object", "give an object type, or a type and id as TYPE:ID")
        where.append(table.c.object_type == object_type)
        if object_id:
            where.append(table.c.object_id == object_id)
    if action is not None:
        where.append(table.c.action.startswith(action[:-1]) if action.endswith(".*") else table.c.action == action)
    since, until = _instant(start, end_of_day=False), _instant(end, end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise _bad_filter("to", "must be after from")
    if since is not None:
        where.append(table.c.at >= since)
    if until is not None:
        where.append(table.c.at < until)
    after = decode_cursor(cursor)
    if after is not None:
        if not isinstance(after[0], int):
            raise _bad_filter("cursor", "invalid cursor")
        where.append(table.c.id < after[0])
    rows = (await uow.session.execute(select(table).where(*where).order_by(table.c.id.desc()).limit(limit + 1))).all()
    items = [AuditEntryOut.model_validate({**row._mapping, "at": row.at.astimezone(VN_TZ)}) for row in rows[:limit]]
    return AuditPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


def _instant(bound: datetime | date | None, *, end_of_day: bool) -> datetime | None:
    """An instant as given; a day as its start in Vietnam time (``end_of_day``: the next day's start)."""
    if bound is None or isinstance(bound, datetime):
        return bound
    return datetime.combine(bound + timedelta(days=int(end_of_day)), time(), tzinfo=VN_TZ)


def _bad_filter(field: str, message: str) -> DomainError:
    return DomainError(f"The {field} filter is not valid: {message}.", errors=[{"field": field, "message": message}])
