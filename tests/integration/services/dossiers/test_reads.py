"""The read path: one dossier as JSON written once from its row, and reads that never wait for writers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from services.dossiers.schemas import DossierOut, DossierPage
from shared.app_factory import create_service_app
from shared.auth import ADMIN, UNIT_OFFICER, Principal, get_principal
from shared.hot_reads import HotReads
from shared.scope import TREE_MAX_AGE
from tests.integration.services.dossiers.conftest import Dossiers, example
from tests.integration.services.dossiers.test_intake_and_queries import PERMIT, move, receive
from tests.support.auth import bearer, issue_key

ADMIN_PRINCIPAL = Principal(subject="admin", roles=frozenset({ADMIN}))


async def test_the_json_of_a_dossier_is_what_its_response_model_writes(dossiers: Dossiers):
    """The route sends JSON built from the row without the model; validated by ``DossierOut`` and
    written again it is the very same bytes (fields, order, defaults of nested items, instants)."""
    batch = example("dongbohosomc.json")["data"]
    await dossiers.push(batch)
    await dossiers.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)
    key = (await receive(dossiers))["ma_ho_so"]
    await move(dossiers, key, 4, dossiers.clock.now())
    keys = [record["MaHoSo"] for record in batch] + [key]
    for ma_ho_so in keys:
        response = await dossiers.client.get(f"/dossiers/v1/dossiers/{ma_ho_so}")
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        assert "x-request-id" in response.headers
        assert DossierOut.model_validate_json(response.content).model_dump_json().encode() == response.content
    page = await dossiers.client.get("/dossiers/v1/dossiers", params={"limit": 2})
    assert DossierPage.model_validate_json(page.content).model_dump_json().encode() == page.content
    assert len(page.json()["items"]) == 2 and page.json()["next_cursor"]
    assert orjson.loads(page.content)["items"][0] == await dossiers.get(page.json()["items"][0]["ma_ho_so"])
    missing = await dossiers.client.get("/dossiers/v1/dossiers/000.00.12.H42-240101-9999")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_a_read_does_not_wait_for_a_writer(dossiers: Dossiers):
    """A transaction holding the write lock (SQLite) or the row's lock (PostgreSQL) delays neither
    a GET of the row nor a list, which see what was committed; a second writer of the row does
    wait (the control)."""
    await dossiers.client.put("/dossiers/v1/procedures/1.004227", json=PERMIT)
    key = (await receive(dossiers))["ma_ho_so"]
    context = dossiers.runtime["dossiers"]
    async with context.uow() as writer:
        await writer.session.execute(
            text("UPDATE dossiers SET summary = 'chưa lưu' WHERE ma_ho_so = :key"), {"key": key}
        )
        read = await asyncio.wait_for(dossiers.get(key), timeout=5)
        assert read["summary"] is None and read["status"] == 2
        listed = await asyncio.wait_for(dossiers.client.get("/dossiers/v1/dossiers"), timeout=5)
        assert [d["ma_ho_so"] for d in listed.json()["items"]] == [key]
        moving = asyncio.create_task(move(dossiers, key, 4, dossiers.clock.now()))
        await asyncio.sleep(0.3)
        assert not moving.done(), "a second writer did not wait for the first"
        await writer.commit()
    assert (await moving)["status"] == 4
    assert (await dossiers.get(key))["summary"] == "chưa lưu"


async def test_the_hot_read_answers_what_the_route_answers(dossiers: Dossiers, monkeypatch: pytest.MonkeyPatch):
    """``GET /v1/dossiers/{id}`` is a hot read (shared/hot_reads.py): through the root app it gives
    the route's very status, headers and bytes; it answers only the plain case and leaves the rest
    (no such dossier, or none in the caller's scope, a role-less caller, no authenticated principal,
    another path) to the route."""
    batch = example("dongbohosomc.json")["data"]
    await dossiers.push(batch)
    context = dossiers.runtime["dossiers"]
    service_app = create_service_app(context)  # the route alone: no root app, no hot read
    service_app.dependency_overrides[get_principal] = lambda: ADMIN_PRINCIPAL
    outcomes: list[bool] = []  # what the root app's hot reads did
    answer = HotReads.answer

    async def spied(self: HotReads, *args: Any) -> bool:
        outcomes.append(await answer(self, *args))
        return outcomes[-1]

    monkeypatch.setattr(HotReads, "answer", spied)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service_app), base_url="http://s") as route:
        for record in batch:
            hot = await dossiers.client.get(f"/dossiers/v1/dossiers/{record['MaHoSo']}")
            routed = await route.get(f"/v1/dossiers/{record['MaHoSo']}")
            assert hot.status_code == routed.status_code == 200
            assert hot.content == routed.content
            assert {k: v for k, v in hot.headers.items() if k != "x-request-id"} == dict(routed.headers)
    assert outcomes == [True] * len(batch)  # the root app's answers were the hot read's
    monkeypatch.undo()

    reads = HotReads(context, service_app)
    key = batch[0]["MaHoSo"]

    async def answered(path: str, principal: Principal | None) -> tuple[bool, list[dict[str, Any]]]:
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        scope: dict[str, Any] = {"type": "http", "method": "GET", "state": {"principal": principal}}
        return await reads.answer(scope, path, send), sent

    done, sent = await answered(f"/v1/dossiers/{key}", ADMIN_PRINCIPAL)
    assert done and sent[0]["status"] == 200 and orjson.loads(sent[1]["body"])["ma_ho_so"] == key
    officer = Principal(subject="o", unit="000.00.12.H42", roles=frozenset({UNIT_OFFICER}))  # the dossier's unit
    done, sent = await answered(f"/v1/dossiers/{key}", officer)
    service_app.dependency_overrides[get_principal] = lambda: officer
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service_app), base_url="http://s") as route:
        routed = await route.get(f"/v1/dossiers/{key}")
    assert done and sent[1]["body"] == routed.content, (
        "a unit-scoped officer's read is hot too, as the route answers it"
    )
    for path, principal in [
        ("/v1/dossiers/000.00.12.H42-240101-9999", ADMIN_PRINCIPAL),  # the route's 404
        (f"/v1/dossiers/{key}", Principal(subject="o", unit="000.00.99.H42", roles=frozenset({UNIT_OFFICER}))),
        (f"/v1/dossiers/{key}", Principal(subject="nobody", roles=frozenset())),  # the route's 403
        (f"/v1/dossiers/{key}", None),
        ("/v1/dossiers", ADMIN_PRINCIPAL),
        (f"/v1/dossiers/{key}/history", ADMIN_PRINCIPAL),
    ]:
        assert await answered(path, principal) == (False, []), path
    missing = await dossiers.client.get("/dossiers/v1/dossiers/000.00.12.H42-240101-9999")
    assert missing.status_code == 404 and missing.json()["status"] == 404


async def test_a_unit_scoped_read_follows_the_unit_tree_at_once_here_and_within_a_second_from_elsewhere(
    dossiers: Dossiers,
):
    """A unit-scoped caller's scope comes from the unit tree cached for requests (no query per
    request): a unit moved by this process (the replica's consumer) counts at once, one moved by
    another process (here a statement on the database) within ``TREE_MAX_AGE``."""
    batch = example("dongbohosomc.json")["data"]
    await dossiers.push(batch[:1])
    key, context = batch[0]["MaHoSo"], dossiers.runtime["dossiers"]
    await dossiers.register_unit("000.00.00.H42", "UBND tỉnh Hà Tĩnh", level="province")
    await dossiers.register_unit("000.00.01.H42", "UBND huyện", parent="000.00.00.H42", level="district")
    await dossiers.register_unit("000.00.12.H42", "UBND xã Cẩm Quang", parent="000.00.00.H42", version=2)
    district = bearer(await issue_key([context], UNIT_OFFICER, "000.00.01.H42"))
    path = f"/dossiers/v1/dossiers/{key}"

    assert (await dossiers.client.get(path, headers=district)).status_code == 404  # the commune is not under it
    await dossiers.register_unit("000.00.12.H42", "UBND xã Cẩm Quang", parent="000.00.01.H42", version=3)
    assert (await dossiers.client.get(path, headers=district)).status_code == 200  # moved under it here: at once

    async with context.db.engine.begin() as connection:  # moved back by another process
        await connection.execute(
            text("UPDATE units SET parent_code = '000.00.00.H42', version = 4 WHERE code = '000.00.12.H42'")
        )
    started = time.monotonic()
    while (await dossiers.client.get(path, headers=district)).status_code == 200:
        assert time.monotonic() - started < TREE_MAX_AGE + 2, "the tree was never read again"
        await asyncio.sleep(0.05)
