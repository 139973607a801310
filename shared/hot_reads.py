"""Hot reads: the few GETs read far more than the rest (one dossier by its id: citizens' status
lookups, officers' screens), answered before the service app's routing and dependency solving.

FastAPI costs a small read more than the read itself: matching it through the included routers,
solving its dependants (the access rule's, the context's, the scope's, each with its own
sub-tree) and its handler's exit stacks took ~150 µs of ~340 µs in-process (docs/performance.md,
"Reads"). A :class:`HotRead` names one documented route and a function giving the body of its
``200``; :class:`HotReads`, called by the root app's innermost middleware, answers the request
itself only in the plain case, and hands everything else to the route:

* the caller is authenticated (the middleware put a principal in the scope) and the route's rule
  in the service's access table allows that principal; its scope is the route's
  (:func:`shared.scope.request_scope`: for a unit-scoped principal, the unit tree cached for requests);
* the function returns a body (``None``: not found, not valid, anything else: the route answers,
  with its 404, 422 or problem);
* no test replaced ``get_principal`` (FastAPI's dependency overrides apply to the route only).

Everything the root app does around a request still applies (request id, metrics under the
route's template, authentication, rate and request limits). The route stays the one definition
of the endpoint: its OpenAPI entry, its access rule and every answer but the plain ``200``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from re import Pattern

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path
from starlette.types import Scope, Send

from shared.access import Access, allows
from shared.auth import Principal
from shared.scope import Scope as Visible
from shared.scope import request_scope
from shared.service import ServiceContext

Answer = Callable[[ServiceContext, Mapping[str, str], Visible], Awaitable[bytes | None]]
"""(the service's context, the path's parameters, the caller's scope) → the JSON body of the
route's ``200``, or ``None`` to let the route answer."""


@dataclass(frozen=True)
class HotRead:
    path: str  # the documented GET route's path in the service app, as in its access table
    answer: Answer


class HotReads:
    """The hot reads of one service app."""

    def __init__(self, context: ServiceContext, app: FastAPI) -> None:
        self.context = context
        routes = {route.path: route for route in iter_route_contexts(app.routes) if "GET" in (route.methods or ())}
        rules = context.definition.access.routes
        self._reads: list[tuple[Pattern[str], HotRead, APIRoute, Access | None]] = []
        for read in context.definition.hot_reads:
            route = routes.get(read.path)
            if route is None or not isinstance(route.original_route, APIRoute):
                raise ValueError(f"hot read {read.path}: the service has no GET route of that path")
            self._reads.append((compile_path(read.path)[0], read, route.original_route, rules.get(("GET", read.path))))

    async def answer(self, scope: Scope, path: str, send: Send) -> bool:
        """Answer a GET of ``path`` (within the service) if it is a hot read in the plain case;
        False (nothing sent) to let the service app answer."""
        principal: Principal | None = scope.get("state", {}).get("principal")
        if principal is None:
            return False
        for pattern, read, route, access in self._reads:
            match = pattern.match(path)
            if match is None:
                continue
            if not allows(principal, access):
                return False
            visible = await request_scope(self.context, principal)
            try:
                body = await read.answer(self.context, match.groupdict(), visible)
            except Exception:  # the route answers (its problem, or the same failure handled as every route's)
                return False
            if body is None:
                return False
            scope["route"] = route  # the metrics' route label
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return True
        return False
