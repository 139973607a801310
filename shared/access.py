"""Which roles may call what: each service declares an :class:`AccessTable` (one rule per REST
route and per GraphQL root field), enforced here in one place for every route and operation.

A route or field without a rule is refused to everyone (and the route-table test fails), so a
new endpoint is closed until someone decides who may use it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from shared.auth import ADMIN, INTEGRATION, UNIT_OFFICER, VIEWER, CurrentPrincipal, Principal
from shared.problems import Forbidden

log = logging.getLogger(__name__)


class Access(StrEnum):
    """What a route or root field does, hence who may call it (:data:`ALLOWED`)."""

    READ = "read"  # reads
    DOSSIER_READ = "dossier_read"  # reads of dossiers: the provincial system pulls them too
    WRITE = "write"  # a unit officer's work: intake, transitions, progress, letters...
    PUSH = "push"  # the provincial system pushing dossiers
    ADMIN = "admin"  # the system's set-up: keys, units, calendars, procedures, webhooks...


ALLOWED: Mapping[Access, frozenset[str]] = {
    Access.READ: frozenset({ADMIN, UNIT_OFFICER, VIEWER}),
    Access.DOSSIER_READ: frozenset({ADMIN, UNIT_OFFICER, VIEWER, INTEGRATION}),
    Access.WRITE: frozenset({ADMIN, UNIT_OFFICER}),
    Access.PUSH: frozenset({ADMIN, INTEGRATION}),
    Access.ADMIN: frozenset({ADMIN}),
}
INTROSPECTION = frozenset({"__typename", "__schema", "__type"})


@dataclass(frozen=True)
class AccessTable:
    """``routes`` by (method, path as in the service's OpenAPI); GraphQL root fields by their
    GraphQL names."""

    routes: Mapping[tuple[str, str], Access] = field(default_factory=dict)
    queries: Mapping[str, Access] = field(default_factory=dict)
    mutations: Mapping[str, Access] = field(default_factory=dict)


def allows(principal: Principal, access: Access | None) -> bool:
    return access is not None and not principal.roles.isdisjoint(ALLOWED[access])


# --- REST --------------------------------------------------------------------------------------


KERNEL_ROUTES: Mapping[tuple[str, str], Access] = {("GET", "/v1/audit"): Access.ADMIN}
"""The routes the kernel gives every service (shared.audit_api)."""


def install_route_rules(app: FastAPI, table: AccessTable) -> None:
    """Resolve ``table`` (and :data:`KERNEL_ROUTES`) against the routes ``app`` serves, for
    :func:`authorize` to look up by the route the request matched (call once every router is included)."""
    rules: dict[tuple[int, str], Access] = {}  # by the route object's id: routes are not hashable
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            key = (method, route.path or "")
            access = table.routes.get(key, KERNEL_ROUTES.get(key))
            if access is not None:
                rules[(id(route.original_route), method)] = access
    app.state.route_rules = rules


async def authorize(request: Request, principal: CurrentPrincipal) -> None:
    """The router-level dependency of every service route: 403 unless the principal's roles
    allow the route's access level."""
    rules: Mapping[tuple[int, str], Access] = request.app.state.route_rules
    access = rules.get((id(request.scope["route"]), request.method))
    if access is None:
        log.warning("route without an access rule refused: %s %s", request.method, request.scope["route"].path)
    if not allows(principal, access):
        raise Forbidden("Your role does not allow this request.")


# --- GraphQL -----------------------------------------------------------------------------------


class RootFieldAccess(SchemaExtension):
    """Before execution, refuse (``FORBIDDEN``) an operation naming a root field the principal's
    roles do not allow; nothing of it runs. Introspection is open to every principal."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context: Any = execution.context
        if execution.graphql_document is not None:
            refused = refused_root_fields(
                execution.graphql_document, execution.operation_name, context.principal, context.access
            )
            if refused:
                message = f"Your role does not allow: {', '.join(refused)}."
                execution.result = ExecutionResult(
                    data=None, errors=[GraphQLError(message, extensions={"code": "FORBIDDEN"})]
                )
        yield


def refused_root_fields(
    document: DocumentNode, operation_name: str | None, principal: Principal, table: AccessTable
) -> list[str]:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return []
    rules = table.mutations if operation.operation == OperationType.MUTATION else table.queries
    if operation.operation == OperationType.SUBSCRIPTION:
        rules = {}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return sorted(
        {
            name
            for name in _root_fields(operation.selection_set, fragments, set())
            if name not in INTROSPECTION and not allows(principal, rules.get(name))
        }
    )


def _root_fields(
    selections: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[str]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments, seen)
