"""Services running in the test's process: a started runtime with an HTTP client on its root app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from shared.app_factory import create_root_app
from shared.runtime import Runtime
from tests.support.auth import admin_headers


@asynccontextmanager
async def serving(
    runtime: Runtime,
    *,
    schedulers: bool = True,
    consume_only: bool = False,
    base_url: str = "http://cchc.test",
    timeout: float = 5.0,
) -> AsyncIterator[httpx.AsyncClient]:
    """Migrate and start ``runtime`` (its deadline schedulers only if ``schedulers``; with
    ``consume_only`` no relay, worker or scheduler: its consumers are subscribed, and tests deliver
    to them), yield a client on its root app that sends an administrator's key, and stop both at the end."""
    if consume_only:
        await runtime.migrate()
        runtime.subscribe()
    else:
        await runtime.start(migrate=True, schedulers=schedulers)
    try:
        app = create_root_app(list(runtime.contexts.values()), no_lifespan)
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(runtime)  # every request as an administrator, unless it says otherwise
        async with httpx.AsyncClient(
            transport=transport, base_url=base_url, timeout=timeout, headers=headers
        ) as client:
            yield client
    finally:
        await runtime.stop()


@asynccontextmanager
async def no_lifespan(_: Any) -> AsyncIterator[None]:
    yield  # the runtime, not the app, starts and stops the services
