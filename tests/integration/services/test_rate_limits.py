"""Per-caller rate limits on the real services: past its burst a caller gets 429 with
Retry-After, while another caller (another key, another address) and health checks still pass."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.auth import ADMIN, INTEGRATION
from shared.runtime import Runtime
from tests.support.auth import bearer, issue_key


@pytest.fixture
def backend() -> str:
    return "sqlite"


@asynccontextmanager
async def _noop(_: Any) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def served(
    make_settings: Callable[..., Any],
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], dict[str, str]]]:
    """The dossiers service with a small burst, and two keys: an integration system's and an admin's."""
    settings = await make_settings("dossiers", limits_rate_burst=5, limits_rate_per_second=0.5)
    runtime = Runtime(definitions(["dossiers"]), settings)
    await runtime.start(migrate=True)
    key_a, key_b = bearer(await issue_key(runtime, INTEGRATION)), bearer(await issue_key(runtime, ADMIN))
    app = create_root_app(list(runtime.contexts.values()), _noop)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cchc.test") as client:
        yield client, key_a, key_b
    await runtime.stop()


async def test_a_key_past_its_burst_gets_429_with_retry_after_and_others_still_pass(served):
    client, key_a, key_b = served
    url = "/dossiers/v1/dossiers"
    answers = [await client.get(url, headers=key_a) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["retry-after"]) == 2  # 1 token at 0.5/s
    assert (await client.get(url, headers=key_b)).status_code == 200  # another key has its own bucket
    assert (await client.get("/dossiers/healthz", headers=key_a)).status_code == 200  # probes are not counted
    graphql = {"query": "{ dossiersStatus { service } }"}
    assert (await client.post("/graphql", json=graphql, headers=key_b)).status_code == 200
