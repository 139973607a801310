"""Hostile GraphQL (deep nesting, a thousand aliases, costly pages, huge lists and strings) gets a
GraphQL error at once, never a 5xx or a hang, and one request holds only so many database
sessions; the ordinary queries next to each still pass."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.runtime import Runtime
from tests.support.auth import admin_headers

PAGE = "items { maHoSo status unit dueAt receivedAt timeliness } nextCursor"


@dataclass
class Served:
    runtime: Runtime
    client: httpx.AsyncClient

    async def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the limits act before the database; the session bound is also checked on PostgreSQL


@asynccontextmanager
async def _noop(_: Any) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def start(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    started: list[Served] = []

    async def build(**overrides: Any) -> Served:
        settings = await make_settings("plans", "dossiers", **overrides)
        runtime = Runtime(definitions(["plans", "dossiers"]), settings)
        # no relays nor schedulers: only the requests use the dossiers pool (its one worker, the pull, is off)
        await runtime.start(migrate=True, relays=False, schedulers=False)
        app = create_root_app(list(runtime.contexts.values()), _noop)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://cchc.test",
            timeout=60,
            headers=await admin_headers(runtime),
        )
        started.append(Served(runtime, client))
        return started[-1]

    yield build
    for served in started:
        await served.client.aclose()
        await served.runtime.stop()


def codes(answer: dict[str, Any]) -> set[str]:
    return {error["extensions"]["code"] for error in answer.get("errors", [])}


class Checkouts:
    """Database connections checked out of a service's pools (the writer's and the readers'): now
    and at most, as SQLAlchemy reports them."""

    def __init__(self, runtime: Runtime, service: str) -> None:
        self.now = self.most = self.total = 0
        db = runtime[service].db
        for engine in (db.engine.sync_engine, db.reader.sync_engine):
            event.listen(engine, "checkout", self._out)
            event.listen(engine, "checkin", self._in)

    def _out(self, *_: Any) -> None:
        self.now += 1
        self.total += 1
        self.most = max(self.most, self.now)

    def _in(self, *_: Any) -> None:
        self.now -= 1


async def test_a_thousand_aliases_of_full_pages_are_refused_before_any_database_work(start):
    served = await start()
    query = "{" + " ".join(f"a{i}: dossiers(first: 500) {{ {PAGE} }}" for i in range(1000)) + "}"
    assert len(query) > 80_000
    checkouts = Checkouts(served.runtime, "dossiers")
    began = time.perf_counter()
    hostile = asyncio.create_task(served.gql(query))
    # a plain GET through a session (the dossier list reads on held connections: no checkout)
    meanwhile = await served.client.get("/dossiers/v1/procedures", params={"limit": 1})
    answer = await hostile
    assert time.perf_counter() - began < 5
    assert meanwhile.status_code == 200
    assert answer["data"] is None and codes(answer) == {"GRAPHQL_VALIDATION_FAILED"}
    assert checkouts.total == 1  # the plain GET's; the query opened none


async def test_a_costly_query_under_the_alias_limit_is_refused_with_its_cost(start):
    served = await start()
    query = "{" + " ".join(f"a{i}: dossiers(first: 500) {{ {PAGE} }}" for i in range(20)) + "}"
    answer = await served.gql(query)
    assert answer["data"] is None and codes(answer) == {"QUERY_TOO_COSTLY"}
    assert answer["errors"][0]["extensions"]["cost"] > answer["errors"][0]["extensions"]["max_cost"] == 25_000
    by_variable = await served.gql(
        "query($n: Int!) {" + " ".join(f"a{i}: dossiers(first: $n) {{ {PAGE} }}" for i in range(20)) + "}", n=1
    )
    assert codes(by_variable) == {"QUERY_TOO_COSTLY"}  # a variable page size counts at the largest page
    one_page = await served.gql(f"{{ dossiers(first: 500) {{ {PAGE} }} }}")
    assert "errors" not in one_page and one_page["data"]["dossiers"]["items"] == []


async def test_deep_nesting_is_refused_and_a_normal_tree_query_passes(start):
    served = await start()
    deep = "{ plan(id: 1) { areas { " + "children { " * 20 + "label" + " }" * 20 + " } } }"
    answer = await served.gql(deep)
    assert answer["data"] is None and codes(answer) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "exceeds maximum operation depth" in answer["errors"][0]["message"]
    tree = await served.gql("{ plan(id: 1) { areas { children { children { obligations { unitCode } } } } } }")
    assert tree == {"data": {"plan": None}}
    introspection = await served.client.get("/graphql", params={"query": "{ __schema { types { name } } }"})
    assert introspection.status_code == 200 and "errors" not in introspection.json()


async def test_huge_lists_and_strings_get_graphql_errors_or_answers_never_a_5xx(start):
    served = await start()
    listed = ", ".join(["1"] * 6000)
    many_tokens = await served.gql(f"{{ dossiers(where: {{status: [{listed}]}}) {{ items {{ maHoSo }} }} }}")
    assert codes(many_tokens) == {"GRAPHQL_VALIDATION_FAILED"} and "token" in many_tokens["errors"][0]["message"]
    query = "query($w: DossierFilterInput) { dossiers(where: $w) { items { maHoSo } } }"
    by_variables = await served.gql(query, w={"status": [1] * 20_000})
    assert by_variables["data"] is not None or codes(by_variables) <= {"INVALID_INPUT", "BAD_USER_INPUT"}
    huge_page = await served.gql("{ dossiers(first: 1000000000) { items { maHoSo } } }")
    assert codes(huge_page) == {"QUERY_TOO_COSTLY"}
    long_string = await served.gql('{ dossier(maHoSo: "' + "A" * 200_000 + '") { maHoSo } }')
    assert long_string == {"data": {"dossier": None}}
    too_long = await served.client.post("/graphql", json={"query": "{ dossiersStatus { service } }" + " " * 300_000})
    assert too_long.status_code == 413 and too_long.json()["code"] == "body_too_large"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_one_request_holds_at_most_its_share_of_database_sessions(start, backend):
    served = await start(limits_graphql_connections=3)
    checkouts = Checkouts(served.runtime, "dossiers")
    query = "{" + " ".join(f"a{i}: dossiers(first: 1) {{ items {{ maHoSo }} }}" for i in range(25)) + "}"
    answer = await served.gql(query)
    assert "errors" not in answer and len(answer["data"]) == 25
    assert checkouts.total == 25 and checkouts.most <= 3
