"""Signed pushes (Standard Webhooks) per integration key: once a key has a secret, its pushes
must be signed, recent and new; other keys push as before; rotation overlaps; seen ids are pruned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request
from sqlalchemy import func, select
from standardwebhooks import Webhook
from starlette.routing import Mount

from services.dossiers.models import SeenPushMessage
from shared.app_factory import create_root_app
from shared.auth import Principal, get_principal
from tests.integration.services.dossiers.conftest import Dossiers, example
from tests.support.audit import actions, audit_rows

URL = "/dossiers/v1/sync/dvcqg"
RECORD = example("dongbohosomc.json")["data"][0]
BODY = orjson.dumps({"service": "DongBoHoSoMC", "isUpdating": False, "data": [RECORD]})
ADMIN = Principal(subject="admin", roles=frozenset({"admin"}))


@asynccontextmanager
async def _noop(_: Any) -> AsyncIterator[None]:
    yield


async def principal_of(request: Request) -> Principal:
    """The integration key named by ``x-test-key`` (an administrator without it): authn's keys
    are not what is tested here, only that the signature belongs to the key."""
    key = request.headers.get("x-test-key")
    return Principal(subject="system", roles=frozenset({"integration"}), key_id=key) if key else ADMIN


@asynccontextmanager
async def keyed_client(d: Dossiers) -> AsyncIterator[httpx.AsyncClient]:
    app = create_root_app(list(d.runtime.contexts.values()), _noop)
    for mounted in [app, *(r.app for r in app.routes if isinstance(r, Mount) and isinstance(r.app, FastAPI))]:
        mounted.dependency_overrides[get_principal] = principal_of
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cchc.test") as client:
        yield client


def signed(d: Dossiers, secret: str, msg_id: str, *, key: str = "prov", age: timedelta = timedelta(0)) -> dict:
    stamp = d.clock.now() - age
    return {
        "x-test-key": key,
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, stamp, BODY),
    }


async def set_secret(client: httpx.AsyncClient, key: str = "prov") -> str:
    answer = await client.put(f"/dossiers/v1/sync/keys/{key}/secret")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["secret"])


async def test_a_key_with_a_secret_pushes_only_signed_recent_new_messages(dossiers: Dossiers):
    async with keyed_client(dossiers) as client:
        before = await client.post(
            URL, content=BODY, headers={"x-test-key": "prov", "content-type": "application/json"}
        )
        assert before.status_code == 200  # no secret yet: the key alone suffices
        secret = await set_secret(client)
        assert secret.startswith("whsec_")

        unsigned = await client.post(
            URL, content=BODY, headers={"x-test-key": "prov", "content-type": "application/json"}
        )
        assert unsigned.status_code == 401 and unsigned.json()["code"] == "invalid_signature"
        good = await client.post(URL, content=BODY, headers=signed(dossiers, secret, "msg_1"))
        assert good.status_code == 200 and good.json()["received"] == 1
        replay = await client.post(URL, content=BODY, headers=signed(dossiers, secret, "msg_1"))
        assert replay.status_code == 409 and replay.json()["code"] == "replayed"
        stale = await client.post(
            URL, content=BODY, headers=signed(dossiers, secret, "msg_2", age=timedelta(minutes=6))
        )
        assert stale.status_code == 401 and "webhook-timestamp" in stale.json()["detail"]
        forged = await client.post(URL, content=BODY, headers=signed(dossiers, "whsec_" + "A" * 43 + "=", "msg_3"))
        assert forged.status_code == 401
        tampered = signed(dossiers, secret, "msg_4")
        changed = await client.post(
            URL, content=BODY.replace(b"DongBoHoSoMC", b"CapNhatTienDoHoSoMC"), headers=tampered
        )
        assert changed.status_code == 401
        other = await client.post(
            URL, content=BODY, headers={"x-test-key": "other", "content-type": "application/json"}
        )
        assert other.status_code == 200  # a key without a secret is not concerned


async def test_only_an_administrator_sets_a_secret_and_removing_it_allows_unsigned_again(dossiers: Dossiers):
    async with keyed_client(dossiers) as client:
        refused = await client.put("/dossiers/v1/sync/keys/prov/secret", headers={"x-test-key": "prov"})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        await set_secret(client)
        headers = {"x-test-key": "prov", "content-type": "application/json"}
        assert (await client.post(URL, content=BODY, headers=headers)).status_code == 401
        assert (await client.delete("/dossiers/v1/sync/keys/prov/secret")).status_code == 204
        assert (await client.post(URL, content=BODY, headers=headers)).status_code == 200
        assert (await client.delete("/dossiers/v1/sync/keys/prov/secret")).status_code == 404
    logged = [r for r in await audit_rows(dossiers.runtime["dossiers"]) if r["object_type"] == "api_key"]
    assert actions(logged) == [
        ("push_secret.set", "api_key", "prov", "admin"),
        ("push_secret.removed", "api_key", "prov", "admin"),
    ]
    assert "whsec_" not in str(logged)  # the secret itself is never logged


async def test_a_message_id_is_a_replay_only_for_the_key_that_sent_it(dossiers: Dossiers):
    async with keyed_client(dossiers) as client:
        first, second = await set_secret(client, "prov"), await set_secret(client, "prov-2")
        assert (await client.post(URL, content=BODY, headers=signed(dossiers, first, "m"))).status_code == 200
        other_key = await client.post(URL, content=BODY, headers=signed(dossiers, second, "m", key="prov-2"))
        assert other_key.status_code == 200
        again = await client.post(URL, content=BODY, headers=signed(dossiers, second, "m", key="prov-2"))
        assert again.status_code == 409 and again.json()["code"] == "replayed"


async def test_a_rotated_secret_verifies_during_the_overlap_only(start_dossiers):
    d = await start_dossiers(dossiers_push_secret_overlap_hours=1)
    async with keyed_client(d) as client:
        old = await set_secret(client)
        new = await set_secret(client)
        assert new != old
        assert (await client.post(URL, content=BODY, headers=signed(d, new, "m1"))).status_code == 200
        assert (await client.post(URL, content=BODY, headers=signed(d, old, "m2"))).status_code == 200
        d.clock.advance(timedelta(hours=1, minutes=1))
        assert (await client.post(URL, content=BODY, headers=signed(d, old, "m3"))).status_code == 401
        assert (await client.post(URL, content=BODY, headers=signed(d, new, "m4"))).status_code == 200


async def test_seen_ids_are_kept_while_they_could_verify_and_pruned_after(dossiers: Dossiers):
    async def seen() -> int:
        async with dossiers.runtime["dossiers"].db.session() as session:
            return (await session.execute(select(func.count()).select_from(SeenPushMessage))).scalar_one()

    async with keyed_client(dossiers) as client:
        secret = await set_secret(client)
        for n in range(3):
            assert (await client.post(URL, content=BODY, headers=signed(dossiers, secret, f"a{n}"))).status_code == 200
        assert await seen() == 3
        dossiers.clock.advance(timedelta(minutes=11))  # past twice the 5-minute tolerance
        assert (await client.post(URL, content=BODY, headers=signed(dossiers, secret, "b0"))).status_code == 200
        assert await seen() == 1
