"""The recount pages through a list API served by a real HTTP server on loopback: when the service
asks it to wait (429 with Retry-After, 503) it waits and asks again, so a recount of millions of
dossiers outlasts any one key's rate limit; any other error stops it. A page whose ``Link`` header
names the next one has the next one asked for before its own body is read."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse

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


def linked_list(pages: int) -> tuple[FastAPI, list[bool]]:
    """A paged list whose answers name the next page in a ``Link`` header and send their body only
    once the next page has been asked for (or after a second): ``early[n]`` says whether page n+1
    was asked for before page n's body went out."""
    app = FastAPI()
    asked = [asyncio.Event() for _ in range(pages)]
    early: list[bool] = []

    @app.get("/things")
    async def things(cursor: int = 0) -> StreamingResponse:
        asked[cursor].set()
        last = cursor + 1 == pages

        async def body() -> AsyncIterator[bytes]:
            if not last:
                try:
                    await asyncio.wait_for(asked[cursor + 1].wait(), 1)
                    early.append(True)
                except TimeoutError:
                    early.append(False)
            yield json.dumps({"items": [{"n": cursor}], "next_cursor": None if last else str(cursor + 1)}).encode()

        headers = {} if last else {"Link": f'<?cursor={cursor + 1}>; rel="next"'}
        return StreamingResponse(body(), media_type="application/json", headers=headers)

    return app, early


async def test_the_next_page_is_asked_for_as_soon_as_the_link_header_names_it() -> None:
    """The list service makes the next page while this page's body is read and handled."""
    app, early = linked_list(4)
    async with live_server(app) as url:
        assert await every_item(url) == [{"n": n} for n in range(4)]
    assert early == [True, True, True]


async def test_without_a_link_header_the_body_cursor_leads_to_the_next_page() -> None:
    """Positive control of the test above: a list without ``Link`` is read to its end all the same."""
    async with live_server(throttling_list([])) as url:
        assert await every_item(url) == ITEMS
