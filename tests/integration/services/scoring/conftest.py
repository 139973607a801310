"""A scoring service on SQLite and PostgreSQL, fed through its real consumer, on a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.catalog import definitions
from shared.bus.base import Message
from shared.clock import VN_TZ, ManualClock
from shared.events import CloudEvent
from shared.runtime import Runtime
from shared.service import ServiceContext
from tests.support.runtime import serving


def envelope(type_: str, subject: str, data: dict[str, Any], time: datetime, topic: str) -> Message:
    event = CloudEvent(source="/cchc/test", type=f"vn.cchc.{type_}.v1", time=time, subject=subject, data=data)
    return Message(topic=topic, key=subject, value=event.to_json().encode())


@dataclass
class Scoring:
    runtime: Runtime
    clock: ManualClock
    client: httpx.AsyncClient

    @property
    def context(self) -> ServiceContext:
        return self.runtime["scoring"]

    async def deliver(self, messages: list[Message]) -> None:
        """Through the kernel consumer, as the bus delivers a batch."""
        consumer = self.context.consumer()
        assert consumer is not None
        await consumer(messages)

    async def unit(self, code: str, parent: str | None, level: str = "commune", version: int = 1) -> None:
        data = {
            "code": code,
            "name": f"UBND {code}",
            "aliases": [],
            "level": level,
            "parent_code": parent,
            "version": version,
        }
        await self.deliver([envelope("unit.upserted", code, data, self.clock.now(), "cchc.plans")])

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"/scoring/v1/{path}", params=params)


@pytest.fixture
async def start_scoring(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    async with AsyncExitStack() as running:

        async def start(now: datetime = datetime(2024, 8, 15, 9, 0, tzinfo=VN_TZ)) -> Scoring:
            settings = await make_settings("scoring", outbox_retention_hours=24 * 365)
            clock = ManualClock(now)
            runtime = Runtime(definitions(["scoring"]), settings, clock=clock)
            # dead letters go to the service's table, as in embedded mode
            client = await running.enter_async_context(serving(runtime, consume_only=True))
            return Scoring(runtime, clock, client)

        yield start
