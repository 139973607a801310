"""``/metrics`` with ``CCHC_AUTH_METRICS_TOKEN`` set: only that bearer token opens it (an API
key, even an administrator's, does not), and the token opens nothing else."""

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
from tests.support.auth import bearer, issue_key

TOKEN = "scrape-9f2c7e41b0d8a6"


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def served(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """Start plans and dossiers with the given settings; yields (runtime, client without credentials)."""
    started: list[tuple[Runtime, httpx.AsyncClient]] = []

    async def start(**overrides: Any) -> tuple[Runtime, httpx.AsyncClient]:
        settings = await make_settings("plans", "dossiers", **overrides)
        runtime = Runtime(definitions(["plans", "dossiers"]), settings)
        await runtime.start(migrate=True, relays=False, schedulers=False)
        app = create_root_app(list(runtime.contexts.values()), _no_lifespan)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cchc.test")
        started.append((runtime, client))
        return started[-1]

    yield start
    for runtime, client in started:
        await client.aclose()
        await runtime.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_metrics_want_their_token_when_one_is_set_and_the_token_opens_nothing_else(served) -> None:
    runtime, client = await served(auth_metrics_token=TOKEN)
    admin = bearer(await issue_key(runtime))
    for service in ("plans", "dossiers"):
        url = f"/{service}/metrics"
        for headers in ({}, bearer("scrape-wrong"), bearer(TOKEN + "x"), admin, {"Authorization": TOKEN}):
            refused = await client.get(url, headers=headers)
            assert refused.status_code == 401, (url, headers)
            assert refused.json()["code"] == "unauthenticated"
        scraped = await client.get(url, headers=bearer(TOKEN))
        assert scraped.status_code == 200 and "cchc_outbox_backlog" in scraped.text
        assert (await client.get(f"/{service}/healthz")).status_code == 200  # the probes stay open
    assert (await client.get("/dossiers/v1/dossiers", headers=bearer(TOKEN))).status_code == 401
    assert (await client.get("/dossiers/v1/dossiers", headers=admin)).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_metrics_are_open_when_no_token_is_set(served) -> None:
    _, client = await served()
    answer = await client.get("/dossiers/metrics")
    assert answer.status_code == 200 and "cchc_outbox_backlog" in answer.text
