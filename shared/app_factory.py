"""The FastAPI apps: one per service (health, readiness, metrics, REST, GraphQL) and the root."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.access import authorize, install_route_rules
from shared.auth import get_principal
from shared.authentication import Authentication
from shared.graphql import graphql_router
from shared.logs import request_id_var
from shared.metrics import CONSUMER_LAG, HTTP_LATENCY, HTTP_REQUESTS, OUTBOX_BACKLOG
from shared.oidc import OidcVerifier
from shared.problems import install_problem_handlers, problem
from shared.service import Context, ServiceContext

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class RequestContext:
    """Pure ASGI middleware on the outermost app: request id (``X-Request-ID``) in logs and
    response, and request metrics labelled by service (the first path segment) and route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:100]
        request_id = incoming or uuid.uuid4().hex
        token = request_id_var.set(request_id)
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
            HTTP_REQUESTS.labels(service, scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(service, scope["method"], path).observe(time.perf_counter() - started)
            request_id_var.reset(token)


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Alive")
    async def healthz(context: Context) -> dict[str, str]:
        return {"status": "ok", "service": context.name}

    @router.get("/readyz", summary="Database and bus reachable", response_model=None)
    async def readyz(context: Context) -> JSONResponse:
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


def create_service_app(context: ServiceContext) -> FastAPI:
    """The app of one service, meant to be mounted at ``/<service>``."""
    d = context.definition
    app = FastAPI(title=f"cchc {d.name}", description=d.description, version="1")
    app.state.context = context
    install_problem_handlers(app)
    app.include_router(operations_router())
    app.include_router(d.router, dependencies=[Depends(authorize)])
    if d.graphql_query is not None:
        app.include_router(graphql_router([context]), prefix="/graphql", include_in_schema=False)
    install_route_rules(app, d.access)
    return app


def create_root_app(contexts: Sequence[ServiceContext], lifespan: Lifespan) -> FastAPI:
    """Every given service under its prefix, plus ``/graphql`` merging their schemas; every
    request authenticated from the first service's key ring (in embedded mode plans: the owner)."""
    app = FastAPI(title="cchc", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_problem_handlers(app)
    settings = contexts[0].settings
    metrics_token = settings.auth_metrics_token
    service_apps = {c.name: create_service_app(c) for c in contexts}

    def principal_overridden() -> bool:
        """A test replaced ``get_principal`` (FastAPI's dependency overrides): it supplies the principal."""
        return any(get_principal in a.dependency_overrides for a in (app, *service_apps.values()))

    app.add_middleware(
        Authentication,
        keys=contexts[0].keys,
        oidc=OidcVerifier(settings) if settings.jwt_enabled else None,
        metrics_token=metrics_token.get_secret_value() if metrics_token else None,
        services=list(service_apps),
        principal_overridden=principal_overridden,
    )
    app.add_middleware(RequestContext)
    for name, service_app in service_apps.items():
        app.mount(f"/{name}", service_app)
    app.include_router(graphql_router(contexts), prefix="/graphql")

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
