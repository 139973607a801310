"""GraphQL plumbing: the context every resolver gets, per-service and merged schemas."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime
from typing import Annotated, Any, NewType, TypeVar

import strawberry
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from graphql import GraphQLError
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import Info
from strawberry.types.scalar import ScalarDefinition

from shared.access import AccessTable, RootFieldAccess
from shared.auth import Principal, get_principal
from shared.docs_assets import graphiql_page
from shared.graphql_limits import limit_extensions
from shared.instants import vn_iso
from shared.problems import DomainError
from shared.scope import Scope, request_scope
from shared.service import ServiceContext
from shared.uow import UnitOfWork, session_slots

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Translation = Callable[[list[ErrorDetails]], list[ErrorDetails]]  # pydantic's errors with other messages

# File uploads follow the GraphQL multipart request spec. A browser posts multipart/form-data
# cross-site without a CORS preflight, so an upload must also carry one of these headers (which
# no cross-site form can set): another site cannot make a visitor's browser run a mutation (CSRF).
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


class GraphQLContext(BaseContext):
    def __init__(self, services: dict[str, ServiceContext], principal: Principal, access: AccessTable) -> None:
        super().__init__()
        self.services = services
        self.principal = principal
        self._scopes: dict[str, Scope] = {}
        self.access = access  # the root fields' rules of these services (shared.access)

    def service(self, name: str) -> ServiceContext:
        return self.services[name]

    async def scope(self, name: str) -> Scope:
        """The principal's scope in service ``name``'s unit tree, computed once per request."""
        if name not in self._scopes:
            self._scopes[name] = await request_scope(self.services[name], self.principal)
        return self._scopes[name]


def domain_error(exc: DomainError) -> GraphQLError:
    """A domain refusal as a GraphQL error with ``extensions.code`` (and field errors)."""
    return GraphQLError(exc.detail, extensions={"code": exc.code.upper(), "errors": exc.errors, **exc.extra})


@strawberry.type(description="Operational state of one service")
class ServiceStatus:
    service: str
    database_reachable: bool
    bus_reachable: bool
    outbox_backlog: int = strawberry.field(description="Events committed but not yet published")


def service_status_field(service: str) -> Any:
    """A ``<service>Status`` query field, so each service answers for its own health."""

    async def resolve(info: Info[GraphQLContext, None]) -> ServiceStatus:
        context = info.context.service(service)
        return ServiceStatus(
            service=service,
            database_reachable=await context.db.ping(),
            bus_reachable=await context.bus.ping(),
            outbox_backlog=await context.relay.backlog(),
        )

    return strawberry.field(resolver=resolve, description=f"Operational state of the {service} service")


class ErrorCodes(SchemaExtension):
    """Every GraphQL error carries ``extensions.code``; unexpected ones are masked and logged."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [_with_code(error) for error in result.errors]


def _with_code(error: GraphQLError) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    if error.original_error is None or (isinstance(error.original_error, GraphQLError) and error.path is None):
        # the document, or a variable GraphQL itself refused (of the wrong type: no field ran yet)
        code, message = "GRAPHQL_VALIDATION_FAILED", error.message
    else:
        log.error("unexpected error in a resolver", exc_info=error.original_error)
        code, message = "INTERNAL_SERVER_ERROR", "An unexpected error occurred; it has been logged."
    return GraphQLError(
        message, nodes=error.nodes, path=error.path, extensions={**(error.extensions or {}), "code": code}
    )


def _parse_instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 instant, e.g. 2024-04-15T09:15:00+07:00")
    return datetime.fromisoformat(value)


DayOrInstant = NewType("DayOrInstant", str)
"""A filter bound as given (an instant, or a date alone for that day in Vietnam): the filter's
pydantic model (``shared.bounds.FromInstant`` / ``ToInstant``) reads it as the REST query does."""

SCALARS: dict[object, ScalarDefinition] = {
    # every instant GraphQL writes is ISO 8601 in Vietnam time, as REST and the events write it
    datetime: strawberry.scalar(
        name="DateTime",
        description="An instant, ISO 8601 with its offset; written in Vietnam time, e.g. 2024-04-15T09:15:00+07:00",
        serialize=vn_iso,
        parse_value=_parse_instant,
    ),
    DayOrInstant: strawberry.scalar(
        name="DayOrInstant",
        description="A filter bound: an instant with its offset (2024-04-15T09:15:00+07:00), or a date alone "
        "(2024-04-15) meaning that day in Vietnam time (from its start, to its end)",
        serialize=str,
        parse_value=str,
    ),
}


def build_schema(contexts: Sequence[ServiceContext]) -> strawberry.Schema:
    queries = tuple(c.definition.graphql_query for c in contexts if c.definition.graphql_query)
    mutations = tuple(c.definition.graphql_mutation for c in contexts if c.definition.graphql_mutation)
    query = queries[0] if len(queries) == 1 else merge_types("Query", queries)
    mutation = None
    if mutations:
        mutation = mutations[0] if len(mutations) == 1 else merge_types("Mutation", mutations)
    extensions: list[Callable[[], SchemaExtension]] = [
        *limit_extensions(contexts[0].settings),
        ErrorCodes,
        RootFieldAccess,
    ]
    return strawberry.Schema(
        query=query, mutation=mutation, extensions=extensions, config=StrawberryConfig(scalar_map=SCALARS)
    )


class _Router(GraphQLRouter[GraphQLContext, None]):
    """Strawberry's router with GraphiQL on the assets this service serves (strawberry's page loads them
    from public CDNs, which an intranet does not reach)."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page(request)


def graphql_router(contexts: Sequence[ServiceContext]) -> GraphQLRouter[GraphQLContext, None]:
    services = {c.name: c for c in contexts}
    limit = contexts[0].settings.limits_graphql_connections
    access = AccessTable(
        queries={k: v for c in contexts for k, v in c.definition.access.queries.items()},
        mutations={k: v for c in contexts for k, v in c.definition.access.mutations.items()},
    )

    async def context_getter(
        request: Request, principal: Annotated[Principal, Depends(get_principal)]
    ) -> GraphQLContext:
        _refuse_multipart_without_preflight(request)
        # this request's resolvers (run concurrently) share so many database sessions
        session_slots.set(asyncio.Semaphore(limit))
        return GraphQLContext(services, principal, access)

    return _Router(build_schema(contexts), context_getter=context_getter, multipart_uploads_enabled=True)


def _refuse_multipart_without_preflight(request: Request) -> None:
    if request.headers.get("content-type", "").startswith("multipart/") and not any(
        request.headers.get(h) for h in PREFLIGHT_HEADERS
    ):
        raise HTTPException(
            400, f"A multipart GraphQL request needs one of the headers {', '.join(PREFLIGHT_HEADERS)}."
        )


def invalid_input(exc: ValidationError, translate: Translation | None = None) -> GraphQLError:
    """Invalid mutation input as a GraphQL error with one entry per field, as REST's problem+json
    has them (the field's path, the message, pydantic's error type); ``translate`` rewrites the
    messages (REST routes that answer in another language do the same)."""
    details = exc.errors() if translate is None else translate(exc.errors())
    errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]} for e in details]
    return GraphQLError("Some fields are invalid.", extensions={"code": "INVALID_INPUT", "errors": errors})


def page_size(first: int, maximum: int, argument: str = "first") -> int:
    """A page size argument in [1, ``maximum``], else a ``BAD_USER_INPUT`` error naming it."""
    if not 1 <= first <= maximum:
        message = f"must be between 1 and {maximum}"
        errors = [{"field": argument, "message": message}]
        raise GraphQLError(f"{argument} {message}.", extensions={"code": "BAD_USER_INPUT", "errors": errors})
    return first


def checked_input(model: type[M], values: dict[str, Any], translate: Translation | None = None) -> M:
    """Mutation arguments checked by ``model``, the REST body's (``strawberry.asdict`` leaves unset
    fields out): an ``INVALID_INPUT`` error when they are not valid."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc, translate) from exc


async def read(info: Info[GraphQLContext, None], service: str, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """``action`` on a reading unit of work of ``service`` (a query's resolver; see
    :meth:`ServiceContext.reader`): a refusal of the domain becomes a GraphQL error with its code."""
    async with info.context.service(service).reader() as uow:
        try:
            return await action(uow)
        except DomainError as exc:
            raise domain_error(exc) from exc


async def read_scoped(
    info: Info[GraphQLContext, None], service: str, action: Callable[[UnitOfWork, Scope], Awaitable[T]]
) -> T:
    """:func:`read` with the principal's scope in ``service`` (see :mod:`shared.scope`)."""

    async def run(uow: UnitOfWork) -> T:
        return await action(uow, await info.context.scope(service))

    return await read(info, service, run)


async def in_scoped_transaction(
    info: Info[GraphQLContext, None], service: str, action: Callable[[UnitOfWork, Scope], Awaitable[T]]
) -> T:
    """:func:`in_transaction` with the principal's scope in ``service``."""

    async def run(uow: UnitOfWork) -> T:
        return await action(uow, await info.context.scope(service))

    return await in_transaction(info, service, run)


async def in_transaction(
    info: Info[GraphQLContext, None],
    service: str,
    action: Callable[[UnitOfWork], Awaitable[T]],
) -> T:
    """``action`` in one transaction of ``service``, as its REST route runs it: a refusal of the
    domain becomes a GraphQL error."""
    context = info.context.service(service)
    async with context.uow(info.context.principal) as uow:
        try:
            result = await action(uow)
        except DomainError as exc:
            raise domain_error(exc) from exc
        await uow.commit()
    return result
