"""API keys through the admin API: shown once, stored hashed, accepted by every service of the
process and refused once revoked or expired, within the key ring's refresh."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from shared.api_keys import key_hash
from shared.auth import Principal, get_principal
from shared.runtime import Runtime
from tests.support.auth import bearer, issue_key

SERVICES_READ = ["/plans/v1/units", "/dossiers/v1/procedures", "/scoring/v1/catalogue", "/notifications/v1/recipients"]


async def answers(client: httpx.AsyncClient, key: str) -> set[int]:
    return {(await client.get(url, headers=bearer(key))).status_code for url in SERVICES_READ}


async def until(check, timeout: float = 5.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until ``await check()`` is true; fails past ``timeout``."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < timeout, "not within the time allowed"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_key_made_by_the_admin_api_works_everywhere_within_seconds_and_stops_when_revoked(
    everything: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = everything
    admin = bearer(await issue_key(runtime))
    made = await client.post("/plans/v1/api-keys", json={"role": "viewer", "name": "tableau"}, headers=admin)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith(made.json()["prefix"] + "_") and len(key) > 50

    accepted = await until(lambda: _all(client, key, {200}))
    # every service's replica holds it (hashed), from the api_key.created event
    for context in runtime.contexts.values():
        table = context.definition.tables.api_keys
        async with context.db.session() as session:
            await until(lambda t=table, s=session: _stored(s, t, key))
            assert key not in str((await session.execute(select(table))).all())

    listed = (await client.get("/plans/v1/api-keys", headers=admin)).json()
    viewer = next(k for k in listed if k["name"] == "tableau")
    assert "key" not in viewer and viewer["role"] == "viewer" and viewer["revoked_at"] is None

    assert (await client.post(f"/plans/v1/api-keys/{viewer['id']}:revoke", headers=admin)).status_code == 200
    refused = await until(lambda: _all(client, key, {401}))
    again = await client.post(f"/plans/v1/api-keys/{viewer['prefix']}:revoke", headers=admin)
    assert again.status_code == 200 and again.json()["revoked_at"] is not None
    assert accepted < 5 and refused < 5


async def _all(client: httpx.AsyncClient, key: str, statuses: set[int]) -> bool:
    return await answers(client, key) == statuses


async def _stored(session, table, key: str) -> bool:  # type: ignore[no-untyped-def]
    found = await session.scalar(select(table.c.id).where(table.c.key_hash == key_hash(key)))
    await session.rollback()
    return found is not None


async def test_expired_malformed_and_unknown_keys_are_refused(everything: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, client = everything
    admin = bearer(await issue_key(runtime))
    soon = runtime.clock.now() + timedelta(seconds=2)
    made = await client.post(
        "/plans/v1/api-keys", json={"role": "admin", "expires_at": soon.isoformat()}, headers=admin
    )
    key = made.json()["key"]
    await until(lambda: _all(client, key, {200}))
    await until(lambda: _all(client, key, {401}), timeout=6)

    good = admin["Authorization"].removeprefix("Bearer ")
    for header in (
        f"Bearer {good[:-1]}{'A' if good[-1] != 'A' else 'B'}",  # one character off
        f"Bearer {good}x",
        "Bearer cchc_",
        "Bearer not-a-token",
        f"Basic {good}",
        f"bearer{good}",
        "Bearer",
    ):
        refused = await client.get("/plans/v1/units", headers={"Authorization": header})
        assert refused.status_code == 401, header
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/plans/v1/units", headers={"Authorization": f"bearer {good}"})).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "root"}, "body.role"),
        ({"role": "viewer", "unit": "000.00.99.H99"}, "unit"),
        ({"role": "viewer", "unit": "nope"}, "body.unit"),
        ({"role": "viewer", "expires_at": "2020-01-01T00:00:00+07:00"}, "expires_at"),
        ({"role": "viewer", "expires_at": "2030-01-01T00:00:00"}, "body.expires_at"),
    ],
)
async def test_a_bad_key_request_gets_field_errors(
    everything: tuple[Runtime, httpx.AsyncClient], body: dict[str, str], field: str
) -> None:
    runtime, client = everything
    refused = await client.post("/plans/v1/api-keys", json=body, headers=bearer(await issue_key(runtime)))
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [field]


async def test_keys_through_graphql_are_for_admins(everything: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, client = everything
    admin = bearer(await issue_key(runtime))
    made = await client.post(
        "/graphql",
        json={"query": 'mutation { createApiKey(role: "integration", name: "một cửa") { id prefix role key } }'},
        headers=admin,
    )
    key = made.json()["data"]["createApiKey"]
    assert key["role"] == "integration" and key["key"].startswith(key["prefix"])
    listed = await client.post("/graphql", json={"query": "{ apiKeys { id name revokedAt } }"}, headers=admin)
    assert {"id": key["id"], "name": "một cửa", "revokedAt": None} in listed.json()["data"]["apiKeys"]
    await until(lambda: _status(client, "/dossiers/v1/dossiers", key["key"], 200))
    assert (await client.get("/plans/v1/units", headers=bearer(key["key"]))).status_code == 403
    revoked = await client.post(
        "/graphql", json={"query": f'mutation {{ revokeApiKey(id: "{key["id"]}") {{ revokedAt }} }}'}, headers=admin
    )
    assert revoked.json()["data"]["revokeApiKey"]["revokedAt"] is not None
    await until(lambda: _status(client, "/dossiers/v1/dossiers", key["key"], 401))


async def test_making_and_revoking_a_key_is_audited_by_its_author_without_the_key(
    everything: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = everything
    admin_key = await issue_key(runtime)
    admin = bearer(admin_key)
    made = (await client.post("/plans/v1/api-keys", json={"role": "viewer", "name": "bảng"}, headers=admin)).json()
    assert (await client.post(f"/plans/v1/api-keys/{made['id']}:revoke", headers=admin)).status_code == 200
    assert (await client.post(f"/plans/v1/api-keys/{made['id']}:revoke", headers=admin)).status_code == 200

    logged = await client.get("/plans/v1/audit", params={"object": f"api_key:{made['id']}"}, headers=admin)
    assert logged.status_code == 200, logged.text
    rows = logged.json()["items"]
    admin_id = admin_key.split("_")[1]
    assert [(r["action"], r["actor"], r["key_id"]) for r in rows] == [  # newest first; revoking twice: one row
        ("api_key.revoked", f"key:{admin_id}", admin_id),
        ("api_key.created", f"key:{admin_id}", admin_id),
    ]
    assert rows[1]["changes"] == {"role": "viewer", "unit": None, "name": "bảng"}
    assert made["key"] not in logged.text and made["key"].split("_")[2] not in logged.text


async def _status(client: httpx.AsyncClient, url: str, key: str, status: int) -> bool:
    return (await client.get(url, headers=bearer(key))).status_code == status


async def test_a_test_overriding_get_principal_supplies_the_principal(
    everything: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, client = everything
    root = client._transport.app  # type: ignore[attr-defined]
    assert (await client.get("/plans/v1/units")).status_code == 401  # the positive control
    plans = next(r.app for r in root.routes if getattr(r, "path", "") == "/plans")
    plans.dependency_overrides[get_principal] = lambda: Principal(subject="t", roles=frozenset({"viewer"}))
    assert (await client.get("/plans/v1/units")).status_code == 200
    assert (await client.put("/plans/v1/units/000.00.12.H42", json={})).status_code == 403  # the roles still count
    assert (await client.get("/plans/v1/units", headers=bearer("cchc_wrong"))).status_code == 401
