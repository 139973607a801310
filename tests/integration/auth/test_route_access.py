"""The access table over every route and every GraphQL root field of every service: without
credentials 401 (probes, metrics and the API documentation aside); with each role, allowed or 403
exactly as the service's access table says. A route or root field without a rule fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from graphql import (
    GraphQLField,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_composite_type,
)
from starlette.routing import Mount

from services.catalog import definitions
from shared.access import ALLOWED, KERNEL_ROUTES, Access, AccessTable
from shared.auth import ROLES
from shared.graphql import build_schema
from shared.runtime import Runtime
from tests.support.auth import bearer, issue_key

OPEN = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
GRAPHQL = "/graphql"
PATH_VALUES = {"day": "2024-01-01", "code": "000.00.12.H42", "unit": "000.00.12.H42", "unit_code": "000.00.12.H42"}


def service_apps(app: FastAPI) -> dict[str, FastAPI]:
    return {
        route.path.strip("/"): route.app
        for route in app.routes
        if isinstance(route, Mount) and isinstance(route.app, FastAPI)  # not the docs pages' static assets
    }


def routes_of(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, in its OpenAPI or not."""
    return sorted(
        (method, route.path or "")
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method != "HEAD"
    )


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)


@pytest.fixture
async def keys(everything: tuple[Runtime, httpx.AsyncClient]) -> dict[str, dict[str, str]]:
    runtime, _ = everything
    return {role: bearer(await issue_key(runtime, role)) for role in ROLES}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_route_has_a_rule_and_answers_by_it(
    everything: tuple[Runtime, httpx.AsyncClient], keys: dict[str, dict[str, str]]
) -> None:
    runtime, client = everything
    apps = service_apps(client._transport.app)  # type: ignore[attr-defined]
    assert set(apps) == set(runtime.contexts)
    checked = 0
    for name, app in apps.items():
        table = runtime[name].definition.access
        served = routes_of(app)
        guarded = [(m, p) for m, p in served if p not in OPEN and p != GRAPHQL]
        rules = {**KERNEL_ROUTES, **table.routes}
        assert sorted(rules) == sorted(guarded), f"{name}: routes and access rules differ"
        openapi = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
        assert openapi <= set(served)

        for method, path in served:
            url = f"/{name}{concrete(path)}"
            anonymous = await client.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None)
            if path in OPEN:
                assert anonymous.status_code == 200, (method, url)
                continue
            assert anonymous.status_code == 401, (method, url, anonymous.text)
            assert anonymous.headers["content-type"] == "application/problem+json"
            assert anonymous.json()["code"] == "unauthenticated"
            assert anonymous.headers["www-authenticate"] == "Bearer"
            if path == GRAPHQL:
                continue
            access = rules[(method, path)]
            for role, headers in keys.items():
                answer = await client.request(
                    method, url, headers=headers, json={} if method in ("POST", "PUT", "PATCH") else None
                )
                if role in ALLOWED[access]:
                    assert answer.status_code not in (401, 403), (role, method, url, answer.text)
                else:
                    assert answer.status_code == 403, (role, method, url, answer.text)
                    assert answer.json()["code"] == "forbidden"
                checked += 1
    assert checked > 300


def graphql_request(field: GraphQLField, name: str, operation: str) -> str:
    """``name`` with every argument given by a variable (nothing runs: the variables are absent
    when a role is refused; a role allowed gets a variable error at most)."""
    variables = {arg: _type_text(a.type) for arg, a in field.args.items()}
    header = f"({', '.join(f'${v}: {t}' for v, t in variables.items())})" if variables else ""
    arguments = f"({', '.join(f'{v}: ${v}' for v in variables)})" if variables else ""
    selection = " { __typename }" if is_composite_type(get_named_type(field.type)) else ""
    return f"{operation} Probe{header} {{ {name}{arguments}{selection} }}"


def _type_text(kind: GraphQLInputType | Any) -> str:
    if isinstance(kind, GraphQLNonNull):
        return f"{_type_text(kind.of_type)}!"
    if isinstance(kind, GraphQLList):
        return f"[{_type_text(kind.of_type)}]"
    return str(kind.name)


def root_fields(table: AccessTable, schema: Any) -> list[tuple[str, str, GraphQLField, Access | None]]:
    found: list[tuple[str, str, GraphQLField, Access | None]] = []
    for operation, root, rules in (
        ("query", schema.query_type, table.queries),
        ("mutation", schema.mutation_type, table.mutations),
    ):
        if isinstance(root, GraphQLObjectType):
            found += [(operation, name, f, rules.get(name)) for name, f in root.fields.items()]
    return found


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_graphql_root_field_has_a_rule_and_answers_by_it(
    everything: tuple[Runtime, httpx.AsyncClient], keys: dict[str, dict[str, str]]
) -> None:
    runtime, client = everything
    contexts = list(runtime.contexts.values())
    endpoints = [("/graphql", contexts)] + [(f"/{c.name}/graphql", [c]) for c in contexts]
    checked = 0
    for url, served in endpoints:
        table = AccessTable(
            queries={k: v for c in served for k, v in c.definition.access.queries.items()},
            mutations={k: v for c in served for k, v in c.definition.access.mutations.items()},
        )
        schema = build_schema(served)._schema
        fields = root_fields(table, schema)
        missing = [f"{operation} {name}" for operation, name, _, access in fields if access is None]
        assert missing == [], f"{url}: root fields without an access rule"
        assert {n for o, n, _, _ in fields if o == "query"} == set(table.queries), "rules of absent fields"
        assert {n for o, n, _, _ in fields if o == "mutation"} == set(table.mutations), "rules of absent fields"

        for operation, name, field, access in fields:
            assert access is not None
            body = {"query": graphql_request(field, name, operation)}
            anonymous = await client.post(url, json=body)
            assert anonymous.status_code == 401, (url, name)
            for role, headers in keys.items():
                answer = (await client.post(url, json=body, headers=headers)).json()
                codes = [e.get("extensions", {}).get("code") for e in answer.get("errors", [])]
                if role in ALLOWED[access]:
                    assert "FORBIDDEN" not in codes and "INTERNAL_SERVER_ERROR" not in codes, (url, name, role, answer)
                else:
                    assert codes == ["FORBIDDEN"] and answer["data"] is None, (url, name, role, answer)
                checked += 1
    assert checked > 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_role_allowed_gets_data_and_introspection_is_open_to_every_role(
    everything: tuple[Runtime, httpx.AsyncClient], keys: dict[str, dict[str, str]]
) -> None:
    _, client = everything
    for role in ("admin", "unit_officer", "viewer"):
        units = await client.post("/graphql", json={"query": "{ units { code } }"}, headers=keys[role])
        assert units.json() == {"data": {"units": []}}
    pulled = await client.get("/dossiers/v1/dossiers", headers=keys["integration"])
    assert pulled.status_code == 200 and pulled.json()["items"] == []
    for role in ROLES:
        schema = await client.post(
            "/graphql", json={"query": "{ __schema { queryType { name } } }"}, headers=keys[role]
        )
        assert schema.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    # a forbidden field hidden in a fragment is found too; nothing of the operation runs
    sneaky = "query { ...F } fragment F on Query { units { code } webhookEndpoints { id } }"
    refused = (await client.post("/graphql", json={"query": sneaky}, headers=keys["unit_officer"])).json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "webhookEndpoints" in refused["errors"][0]["message"]


def test_the_documented_tables_are_those_of_the_code() -> None:
    text = (Path(__file__).parents[3] / "docs" / "security.md").read_text(encoding="utf-8")
    for d in definitions():
        for (method, path), access in d.access.routes.items():
            assert f"| {method} | `/{d.name}{path}` | {access.value} |" in text
        for name, access in {**d.access.queries, **d.access.mutations}.items():
            assert f"`{name}` {access.value}" in text
