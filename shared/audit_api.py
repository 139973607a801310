"""The audit log's REST route, the same in every service: ``GET /<service>/v1/audit`` (admins only).

There is no route that changes or removes an entry, and the database refuses to (``shared.audit``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, select

from shared.auth import ADMIN, CurrentPrincipal
from shared.bounds import FromInstant, Text, ToInstant
from shared.instants import VnInstant
from shared.paging import Cursor, Limit, decode_cursor, encode_cursor
from shared.problems import DomainError, Forbidden
from shared.service import Context, Uow

ROLES_EXTENSION = "x-cchc-roles"  # the roles a route admits, in its OpenAPI operation
AUDIT_ROLES = [ADMIN]

router = APIRouter(prefix="/v1", tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    id: int
    """The entry's number in this service's log (newer entries have higher numbers)"""
    at: VnInstant
    """When the change was made (the service's clock)"""
    actor: str
    """The principal's subject, `system` for what consumers and schedulers do, `cli` for the command line"""
    actor_roles: list[str]
    """The principal's roles"""
    actor_unit: str | None
    """The unit the principal is scoped to; null: the whole system"""
    key_id: str | None
    """The API key's id when the principal authenticated with one"""
    action: str
    """What was done, e.g. `dossier.transition`"""
    object_type: str
    """The kind of object changed, e.g. `dossier`"""
    object_id: str
    """The object's id"""
    client_address: str | None
    """The address the request came from (null for what the system did)"""
    request_id: str | None
    """The request's `X-Request-ID`"""
    event_id: str | None
    """The event being handled, for what the system did on one"""
    changes: dict[str, Any]
    """What changed: a field's `[before, after]` (personal values only as `"changed"`), or a summary"""


class AuditPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[AuditEntryOut]
    """The entries of this page, newest first"""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page"""


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
    start: Annotated[FromInstant | None, Query(alias="from", description="Changes at or after")] = None,
    end: Annotated[ToInstant | None, Query(alias="to", description="Changes before")] = None,
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
    if start is not None and end is not None and end <= start:
        raise _bad_filter("to", "must be after from")
    if start is not None:
        where.append(table.c.at >= start)
    if end is not None:
        where.append(table.c.at < end)
    after = decode_cursor(cursor)
    if after is not None:
        if not isinstance(after[0], int):
            raise _bad_filter("cursor", "invalid cursor")
        where.append(table.c.id < after[0])
    rows = (await uow.session.execute(select(table).where(*where).order_by(table.c.id.desc()).limit(limit + 1))).all()
    items = [AuditEntryOut.model_validate(dict(row._mapping)) for row in rows[:limit]]
    return AuditPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


def _bad_filter(field: str, message: str) -> DomainError:
    return DomainError(f"The {field} filter is not valid: {message}.", errors=[{"field": field, "message": message}])
