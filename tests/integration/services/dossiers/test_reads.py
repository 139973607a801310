"""The read path: one dossier as JSON written once from its row, and reads that never wait for writers."""

from __future__ import annotations

import asyncio

import orjson
from sqlalchemy import text

from services.dossiers.schemas import DossierOut, DossierPage
from tests.integration.services.dossiers.conftest import Dossiers, example
from tests.integration.services.dossiers.test_intake_and_queries import PERMIT, move, receive


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
