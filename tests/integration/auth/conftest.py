"""Every service in one runtime (SQLite, in-process bus) behind the root app, for the access tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.runtime import Runtime


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def everything(make_settings: Callable[..., Any]) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """All four services started (relays and consumers running), and a client without credentials."""
    names = ["plans", "dossiers", "scoring", "notifications"]
    settings = await make_settings(*names)
    runtime = Runtime(definitions(names), settings)
    await runtime.start(migrate=True, schedulers=False)
    app = create_root_app(list(runtime.contexts.values()), _no_lifespan)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://cchc.test"
    ) as client:
        yield runtime, client
    await runtime.stop()
