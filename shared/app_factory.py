"""The FastAPI apps: one per service (health, readiness, metrics, REST, GraphQL) and the root."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from functools import lru_cache

import uuid_utils
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.access import authorize, install_route_rules
from shared.audit import client_address_var
from shared.audit_api import router as audit_router
from shared.auth import get_principal
from shared.authentication import Authentication
from shared.docs_assets import install_swagger_ui, mount_assets
from shared.graphql import graphql_router
from shared.hot_reads import HotReads
from shared.logs import request_id_var
from shared.metrics import CONSUMER_LAG, HTTP_LATENCY, HTTP_REQUESTS, OUTBOX_BACKLOG
from shared.oidc import OidcVerifier
from shared.openapi import install_openapi
from shared.problems import install_problem_handlers, problem
from shared.rate_limits import RateLimits
from shared.request_limits import RequestLimits
from shared.service import Context, ServiceContext

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class RequestContext:
    """Pure ASGI middleware on the outermost app: request id (``X-Request-ID``) in logs and
    response, the client's address for the audit log (``scope["client"]``: behind a proxy, run
    uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips``), and request metrics labelled by service (the first path segment) and route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:100]
        request_id = incoming or uuid_utils.uuid4().hex  # the stdlib's uuid4 costs 20 times more
        token = request_id_var.set(request_id)
        client = scope.get("client")
        client_token = client_address_var.set(client[0][:64] if client else None)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            service = scope["path"].strip("/").split("/", 1)[0] or "root"
            route = scope.get("route")
            path = scope.get("root_path", "") + route.path if route is not None else "unmatched"
            requests, latency = _series(service, scope["method"], path, str(status))
            requests.inc()
            latency.observe(time.perf_counter() - started)
            request_id_var.reset(token)
            client_address_var.reset(client_token)


@lru_cache(maxsize=4096)
def _series(service: str, method: str, route: str, status: str) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one label set (``labels()`` takes a lock and
    checks the labels on every call; routes are templates, so the label sets are few)."""
    return HTTP_REQUESTS.labels(service, method, route, status), HTTP_LATENCY.labels(service, method, route)


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Alive")
    async def healthz(context: Context) -> dict[str, str]:
        """The process answers (a liveness probe); says nothing of the database or the bus."""
        return {"status": "ok", "service": context.name}

    @router.get(
        "/readyz",
        summary="Database and bus reachable",
        response_model=None,
        responses={503: {"description": "Not ready: `checks` says what is unreachable"}},
    )
    async def readyz(context: Context) -> JSONResponse:
        """The service's database and the event bus both answer (a readiness probe); 503 naming what does not."""
        checks = {"database": await context.db.ping(), "bus": await context.bus.ping()}
        if all(checks.values()):
            return JSONResponse({"status": "ready", "service": context.name, "checks": checks})
        failing = ", ".join(name for name, ok in checks.items() if not ok)
        return problem(503, "not_ready", f"Not reachable: {failing}.", checks=checks)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics(context: Context) -> Response:
        try:
            OUTBOX_BACKLOG.labels(context.name).set(await context.relay.backlog())
        except Exception:
            OUTBOX_BACKLOG.labels(context.name).set(float("nan"))
        for (group, topic, partition), lag in context.bus.lag().items():
            CONSUMER_LAG.labels(group, topic, str(partition)).set(lag)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


# OpenTelemetry is not used here (metrics are Prometheus'): FastAPI need not look for its
# providers on every request.
NO_TELEMETRY = TelemetryConfig(tracing=False, metrics=False, logs=False)


def create_service_app(context: ServiceContext) -> FastAPI:
    """The app of one service, meant to be mounted at ``/<service>``."""
    d = context.definition
    app = FastAPI(
        title=f"cchc {d.name}",
        description=d.description,
        version="1",
        docs_url=None,
        redoc_url=None,
        telemetry=NO_TELEMETRY,
    )
    app.state.context = context
    install_swagger_ui(app)  # at /docs, on assets served by the service (no CDN)
    install_problem_handlers(app)
    install_openapi(app)
    authorized = [Depends(authorize)]
    app.include_router(d.router, dependencies=authorized)  # first: routes are tried in order (performance.md, "Reads")
    app.include_router(audit_router, dependencies=authorized)
    app.include_router(operations_router())
    if d.graphql_query is not None:
        app.include_router(graphql_router([context]), prefix="/graphql", include_in_schema=False)
    install_route_rules(app, d.access)
    return app


class ServiceDispatch:
    """Pure ASGI middleware, the innermost of the root app: a request under a service's prefix
    goes straight to that service's app, with the scope the mount would give it, or is answered
    here when it is one of the service's hot reads in the plain case (shared/hot_reads.py). The
    root's exception handling, exit stack and router before the service's own took about a tenth
    of a small read's time (docs/performance.md, "Reads"). The middleware around it (request id,
    metrics, and whatever else is added to the root app) applies to every request. Everything
    else (the index, ``/graphql``, a prefix without its slash, a request behind a ``root_path``)
    takes the mount."""

    def __init__(
        self,
        app: ASGIApp,
        services: Mapping[str, ASGIApp],
        router: ASGIApp,
        hot: Mapping[str, HotReads],
        principal_overridden: Callable[[], bool],
    ) -> None:
        self.app, self.services, self.router, self.hot = app, services, router, hot
        self.principal_overridden = principal_overridden

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            name, slash, rest = scope["path"][1:].partition("/")
            service = self.services.get(name) if slash else None
            if service is not None:
                scope.update(
                    router=self.router, path_params={}, app_root_path="", root_path=f"/{name}", endpoint=service
                )
                hot = self.hot.get(name)
                if (
                    hot is not None
                    and scope["method"] == "GET"
                    and not self.principal_overridden()
                    and await hot.answer(scope, f"/{rest}", send)
                ):
                    return
                await service(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_root_app(contexts: Sequence[ServiceContext], lifespan: Lifespan) -> FastAPI:
    """Every given service under its prefix, plus ``/graphql`` merging their schemas; every
    request authenticated from the first service's key ring (in embedded mode plans: the owner)."""
    app = FastAPI(
        title="cchc", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None, telemetry=NO_TELEMETRY
    )
    install_problem_handlers(app)
    services = {c.name: create_service_app(c) for c in contexts}
    for name, service_app in services.items():
        app.mount(f"/{name}", service_app)
    app.include_router(graphql_router(contexts), prefix="/graphql")
    mount_assets(app)  # GraphiQL's at /assets
    settings = contexts[0].settings
    rules = {f"/{c.name}": c.definition.body_rules for c in contexts}
    metrics_token = settings.auth_metrics_token

    def principal_overridden() -> bool:
        """A test replaced ``get_principal`` (FastAPI's dependency overrides): it supplies the principal."""
        return any(get_principal in a.dependency_overrides for a in (app, *services.values()))

    # The last added runs first: request id and metrics, authentication (the principal in the
    # scope's state), rates per principal, bodies, then the dispatch to the service's app.
    hot = {c.name: HotReads(c, services[c.name]) for c in contexts if c.definition.hot_reads}
    app.add_middleware(  # added first: innermost
        ServiceDispatch,
        services=services,
        router=app.router,
        hot=hot,
        principal_overridden=principal_overridden,
    )
    app.add_middleware(RequestLimits, settings=settings, rules=rules)
    app.add_middleware(RateLimits, settings=settings)
    app.add_middleware(
        Authentication,
        keys=contexts[0].keys,
        oidc=OidcVerifier(settings) if settings.jwt_enabled else None,
        metrics_token=metrics_token.get_secret_value() if metrics_token else None,
        services=list(services),
        principal_overridden=principal_overridden,
    )
    app.add_middleware(RequestContext)

    @app.get("/", include_in_schema=False)
    @app.get("/docs", include_in_schema=False)
    async def index() -> HTMLResponse:
        links = "".join(
            f'<li><b>{c.name}</b>: <a href="/{c.name}/docs">REST docs</a> · '
            f'<a href="/{c.name}/openapi.json">OpenAPI</a> · <a href="/{c.name}/graphql">GraphQL</a> · '
            f'<a href="/{c.name}/readyz">readiness</a></li>'
            for c in contexts
        )
        return HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>cchc</title><h1>cchc</h1><ul>{links}</ul>"
            '<p>All services in one GraphQL endpoint: <a href="/graphql">/graphql</a></p>'
        )

    return app
