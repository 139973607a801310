"""The logic of the request limits: token buckets over time, and the answer of a request that
takes longer than its timeout (a tiny ASGI app stands for a slow route)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from shared.rate_limits import TokenBuckets
from shared.request_limits import RequestLimits
from shared.settings import Settings


def test_a_bucket_refills_at_its_rate_up_to_its_burst():
    now = [0.0]
    buckets = TokenBuckets(rate=2, burst=3, now=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == 0.5  # one token in half a second
    assert buckets.take("b") == 0  # another key has its own bucket
    now[0] = 0.5
    assert buckets.take("a") == 0 and buckets.take("a") == 0.5
    now[0] = 100
    assert [buckets.take("a") for _ in range(4)] == [0, 0, 0, 0.5]  # never more than the burst


async def test_a_request_past_its_timeout_is_cancelled_and_answered_503():
    cancelled = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/fast":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app = RequestLimits(slow, Settings(limits_request_timeout=0.2), rules={})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get("/slow")
        assert answer.status_code == 503 and answer.json()["code"] == "timed_out"
        assert cancelled.is_set()
        assert (await client.get("/fast")).text == "ok"
