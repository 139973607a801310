"""Per-caller rate limits on the real services: past its burst a caller gets 429 with
Retry-After, while another caller (another key, another address) and health checks still pass."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.auth import Principal
from shared.runtime import Runtime


@pytest.fixture
def backend() -> str:
    return "sqlite"


@asynccontextmanager
async def _noop(_: Any) -> AsyncIterator[None]:
    yield


def with_key_header(app: ASGIApp) -> ASGIApp:
    """What the authentication middleware does, reduced to its effect: the principal of the
    ``x-test-key`` header in the scope's state (keys are authn's; here only their ids matter)."""

    async def authenticated(scope: Scope, receive: Receive, send: Send) -> None:
        key = dict(scope.get("headers", [])).get(b"x-test-key")
        if key is not None:
            principal = Principal(subject="system", roles=frozenset({"integration"}), key_id=key.decode())
            scope.setdefault("state", {})["principal"] = principal
        await app(scope, receive, send)

    return authenticated


@pytest.fixture
async def client(make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = await make_settings("dossiers", limits_rate_burst=5, limits_rate_per_second=0.5)
    runtime = Runtime(definitions(["dossiers"]), settings)
    await runtime.start(migrate=True)
    app = with_key_header(create_root_app(list(runtime.contexts.values()), _noop))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cchc.test") as client:
        yield client
    await runtime.stop()


async def test_a_key_past_its_burst_gets_429_with_retry_after_and_others_still_pass(client):
    url = "/dossiers/v1/dossiers"
    answers = [await client.get(url, headers={"x-test-key": "key_a"}) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["retry-after"]) == 2  # 1 token at 0.5/s
    assert (await client.get(url, headers={"x-test-key": "key_b"})).status_code == 200
    assert (await client.get(url)).status_code == 200  # without a principal: counted by address
    assert (await client.get("/dossiers/healthz", headers={"x-test-key": "key_a"})).status_code == 200
    assert (await client.post("/graphql", json={"query": "{ dossiersStatus { service } }"})).status_code == 200
