"""``rebuild`` reads a paged dossiers list served on loopback (the next page asked for while this
one is written: a binary COPY on PostgreSQL) and swaps the recount in, on SQLite and PostgreSQL:
what the live model held before is gone, and ``verify`` then finds no difference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from services.scoring import recount
from shared.clock import VN_TZ
from tests.integration.services.scoring.conftest import received, two_units
from tests.support.live_server import live_server

START = datetime(2024, 3, 1, 8, tzinfo=VN_TZ)
UNITS = [
    {"code": "P1", "name": "P1", "level": "province", "parent_code": None, "version": 1},
    *({"code": c, "name": c, "level": "commune", "parent_code": "P1", "version": 1} for c in ("C1", "C2")),
]


def dossier(n: int) -> dict[str, Any]:
    """An item of ``GET /dossiers/v1/dossiers``: every third one open (some past due), a third with fees."""
    received_at = START + timedelta(days=n % 200, minutes=n)
    finished = None if n % 3 == 0 else received_at + timedelta(days=n % 7)
    return {
        "ma_ho_so": f"D{n:05d}",
        "unit": ("C1", "C2")[n % 2],
        "procedure": {"code": f"1.00{n % 4}"},
        "channel": 1 + n % 3,
        "received_at": received_at.isoformat(),
        "due_at": (received_at + timedelta(days=5)).isoformat(),
        "finished_at": finished and finished.isoformat(),
        "timeliness": "open_overdue" if n % 9 == 0 else "on_time",
        "supplement_count": 0,
        "fees": [{"TenPhiLePhi": "Lệ phí"}] if n % 3 == 1 else [],
        "paid_online": 1 if n % 2 else 0,
        "digitised": 1,
        "documents": [],
        "apology": None,
    }


def list_apis(dossiers: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.get("/dossiers/v1/dossiers")
    async def dossiers_page(limit: int, cursor: str | None = None) -> dict[str, Any]:
        start = int(cursor or 0)
        more = start + limit < len(dossiers)
        return {"items": dossiers[start : start + limit], "next_cursor": str(start + limit) if more else None}

    @app.get("/plans/v1/units")
    async def units_page(limit: int) -> dict[str, Any]:
        return {"items": UNITS, "next_cursor": None}

    return app


async def test_a_rebuild_swaps_in_every_page_of_the_list_and_verify_agrees(start_scoring: Callable[..., Any]) -> None:
    scoring = await start_scoring(START + timedelta(days=400))
    await two_units(scoring)
    await received(scoring, "GONE", "C1", START, START + timedelta(days=5))  # the list no longer has it
    listed = [dossier(n) for n in range(2 * recount.PAGE + 203)]  # three pages
    async with live_server(list_apis(listed)) as url, httpx.AsyncClient(base_url=url) as client:
        async with scoring.context.uow() as uow:
            assert await recount.verify(uow, client) != []  # positive control: the live model differs
        async with scoring.context.uow() as uow:
            assert await recount.rebuild(uow, client) == len(listed)
            await uow.commit()
        async with scoring.context.uow() as uow:
            assert await recount.verify(uow, client) == []
    body = (
        await scoring.get("indicators", unit="P1", period="2024", code=["dossiers.received", "dossiers.resolved"])
    ).json()
    assert {i["code"]: i["value"] for i in body["items"]} == {
        "dossiers.received": len(listed),
        "dossiers.resolved": sum(1 for d in listed if d["finished_at"]),
    }
