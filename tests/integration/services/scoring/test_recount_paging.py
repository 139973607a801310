"""The recount pages through a list API served by a real HTTP server on loopback: when the service
asks it to wait (429 with Retry-After, 503) it waits and asks again, so a recount of millions of
dossiers outlasts any one key's rate limit; any other error stops it."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI, Response

from services.scoring import recount
from tests.support.live_server import live_server

ITEMS = [{"n": n} for n in range(5)]


def throttling_list(refusals: list[tuple[int, str]]) -> FastAPI:
    """A paged list (one item a page) that first answers each refusal in turn."""
    app = FastAPI()
    pending = list(refusals)

    @app.get("/things")
    async def things(response: Response, cursor: int = 0) -> dict:
        if pending:
            status, retry_after = pending.pop(0)
            response.status_code = status
            response.headers["Retry-After"] = retry_after
            return {"title": "wait"}
        more = cursor + 1 < len(ITEMS)
        return {"items": ITEMS[cursor : cursor + 1], "next_cursor": str(cursor + 1) if more else None}

    return app


async def every_item(url: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=url) as client:
        return [item async for page in recount.pages(client, "/things") for item in page]


async def test_a_429_or_503_is_waited_out_as_the_service_says_and_every_page_is_read() -> None:
    app = throttling_list([(429, "1"), (503, "0"), (429, "Wed, 21 Oct 2015 07:28:00 GMT")])
    async with live_server(app) as url:
        started = time.monotonic()
        assert await every_item(url) == ITEMS
    assert time.monotonic() - started >= 2  # one second asked, one second for a date it cannot use


async def test_another_error_stops_the_recount() -> None:
    app = throttling_list([(404, "0")])
    async with live_server(app) as url:
        with pytest.raises(httpx.HTTPStatusError):
            await every_item(url)
