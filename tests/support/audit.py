"""The audit log in tests: requests made as a named principal, and the rows a service logged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from starlette.routing import Mount

from shared.app_factory import create_root_app
from shared.auth import ADMIN, UNIT_OFFICER, VIEWER, Principal, get_principal
from shared.runtime import Runtime
from shared.service import ServiceContext

OFFICER = Principal(subject="officer-an", unit="000.00.12.H42", roles=frozenset({UNIT_OFFICER}), key_id="key_an")
AUDITOR = Principal(subject="admin-binh", roles=frozenset({ADMIN}))
READER = Principal(subject="viewer-chi", unit="000.00.12.H42", roles=frozenset({VIEWER}))


def act_as(app: FastAPI, principal: Principal) -> None:
    """Every request to ``app``, and to the service apps it mounts, comes from ``principal``."""
    mounted = [route.app for route in app.routes if isinstance(route, Mount) and isinstance(route.app, FastAPI)]
    for target in (app, *mounted):
        target.dependency_overrides[get_principal] = lambda: principal


@asynccontextmanager
async def _no_lifespan(_: Any) -> AsyncIterator[None]:
    yield


@asynccontextmanager
async def client_as(runtime: Runtime, principal: Principal) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the runtime's services whose every request comes from ``principal``."""
    app = create_root_app(list(runtime.contexts.values()), _no_lifespan)
    act_as(app, principal)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://cchc.test", timeout=60) as client:
        yield client


async def audit_rows(context: ServiceContext) -> list[dict[str, Any]]:
    """Every row of the service's audit log, oldest first."""
    table = context.definition.tables.audit_log
    async with context.db.read_sessions() as session:
        rows = (await session.execute(select(table).order_by(table.c.id))).mappings().all()
    return [dict(row) for row in rows]


def actions(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Each row as (action, object type, object id, actor)."""
    return [(r["action"], r["object_type"], r["object_id"], r["actor"]) for r in rows]
