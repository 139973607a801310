"""A scoring service on SQLite and PostgreSQL, fed through its real consumer, on a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.bus.base import Message
from shared.clock import VN_TZ, ManualClock
from shared.events import CloudEvent
from shared.runtime import Runtime
from shared.service import ServiceContext
from tests.support.auth import admin_headers


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
    started: list[tuple[Runtime, httpx.AsyncClient]] = []

    async def start(now: datetime = datetime(2024, 8, 15, 9, 0, tzinfo=VN_TZ)) -> Scoring:
        settings = await make_settings("scoring", outbox_retention_hours=24 * 365)
        clock = ManualClock(now)
        runtime = Runtime(definitions(["scoring"]), settings, clock=clock)
        await runtime.migrate()
        runtime.subscribe()  # dead letters go to the service's table, as in embedded mode
        app = create_root_app(list(runtime.contexts.values()), _noop)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://cchc.test", headers=await admin_headers(runtime)
        )
        started.append((runtime, client))
        return Scoring(runtime, clock, client)

    yield start
    for runtime, client in started:
        await client.aclose()
        await runtime.stop()


@asynccontextmanager
async def _noop(_: Any) -> AsyncIterator[None]:
    yield
