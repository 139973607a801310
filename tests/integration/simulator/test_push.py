"""Push mode against a tiny real receiver on loopback."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulator.push import Pusher
from simulator.server import create_app
from tests.support.live_server import live_server


def receiver(failures: int = 0) -> tuple[FastAPI, list[dict], list[str | None]]:
    """An app that answers 503 ``failures`` times, then records every batch and its Authorization."""
    app, batches, authorizations = FastAPI(), [], []
    remaining = [failures]

    @app.post("/dossiers/v1/sync/dvcqg")
    async def sync(request: Request) -> JSONResponse:
        if remaining[0] > 0:
            remaining[0] -= 1
            return JSONResponse({"detail": "busy"}, 503)
        batches.append(await request.json())
        authorizations.append(request.headers.get("authorization"))
        return JSONResponse({"accepted": len(batches[-1]["data"])})

    return app, batches, authorizations


async def test_batches_are_retried_after_5xx_and_resends_are_marked_updating(province, clock):
    app, batches, authorizations = receiver(failures=2)
    async with live_server(app) as base, httpx.AsyncClient() as client:
        pusher = Pusher(
            client,
            f"{base}/dossiers/v1/sync/dvcqg",
            province,
            clock,
            token="t0k",
            batch_size=64,
            retry_initial=0.01,
            retry_max=0.05,
        )
        assert await pusher.push_once() == province.arrived
        assert sum(len(b["data"]) for b in batches) == province.arrived  # the two 503s were retried, nothing lost
        assert all(b["service"] == "DongBoHoSoMC" and not b["isUpdating"] and len(b["data"]) <= 64 for b in batches)
        first = [r["MaHoSo"] for b in batches for r in b["data"]]
        assert len(first) == len(set(first)) == province.arrived
        assert set(authorizations) == {"Bearer t0k"}

        batches.clear()
        clock.advance(timedelta(days=1))
        assert await pusher.push_once() > 0
        updates = {r["MaHoSo"] for b in batches if b["isUpdating"] for r in b["data"]}
        news = {r["MaHoSo"] for b in batches if not b["isUpdating"] for r in b["data"]}
        assert updates and news and updates <= set(first) and not news & set(first)


async def test_the_simulator_pushes_while_it_serves(province, clock):
    app, batches, _ = receiver()
    async with live_server(app) as target:
        async with live_server(create_app(province, clock, push_to=f"{target}/dossiers/v1/sync/dvcqg")):
            for _ in range(200):
                if sum(len(b["data"]) for b in batches) >= province.arrived:
                    break
                await asyncio.sleep(0.02)
    assert len({r["MaHoSo"] for b in batches for r in b["data"]}) == province.arrived
