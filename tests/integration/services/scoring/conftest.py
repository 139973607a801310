"""A scoring service on SQLite and PostgreSQL, fed through its real consumer, on a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
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
from tests.support.pipelined import submit_in_turn
from tests.support.runtime import serving


def envelope(type_: str, subject: str, data: dict[str, Any], time: datetime, topic: str) -> Message:
    event = CloudEvent(source="/cchc/test", type=f"vn.cchc.{type_}.v1", time=time, subject=subject, data=data)
    return Message(topic=topic, key=subject, value=event.to_json().encode())


@dataclass
class Fed:
    """A scoring service a test feeds through its real consumer, as the bus delivers."""

    runtime: Runtime
    client: httpx.AsyncClient

    @property
    def context(self) -> ServiceContext:
        return self.runtime["scoring"]

    async def deliver(self, messages: list[Message]) -> None:
        """Through the kernel consumer, as the bus delivers a batch."""
        consumer = self.context.consumer()
        assert consumer is not None
        await consumer(messages)

    async def deliver_in_turn(self, batches: Iterable[list[Message]]) -> None:
        """Through one kernel consumer, each batch handed on before the last is applied, as the
        Kafka bus does."""
        consumer = self.context.consumer()
        assert consumer is not None
        await submit_in_turn(consumer, batches)

    async def unit(self, code: str, parent: str | None, level: str = "commune", version: int = 1) -> None:
        data = {
            "code": code,
            "name": f"UBND {code}",
            "aliases": [],
            "level": level,
            "parent_code": parent,
            "version": version,
        }
        await self.deliver([envelope("unit.upserted", code, data, self.context.clock.now(), "cchc.plans")])

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"/scoring/v1/{path}", params=params)


@dataclass
class Scoring(Fed):
    """Consuming only, on a manual clock: the test runs the publisher's passes itself."""

    clock: ManualClock


@pytest.fixture
async def start_scoring(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    async with AsyncExitStack() as running:

        async def start(now: datetime = datetime(2024, 8, 15, 9, 0, tzinfo=VN_TZ)) -> Scoring:
            settings = await make_settings("scoring", outbox_retention_hours=24 * 365)
            clock = ManualClock(now)
            runtime = Runtime(definitions(["scoring"]), settings, clock=clock)
            # dead letters go to the service's table, as in embedded mode
            client = await running.enter_async_context(serving(runtime, consume_only=True))
            return Scoring(runtime, client, clock)

        yield start


@pytest.fixture
async def live_scoring(make_settings: Callable[..., Any]) -> AsyncIterator[Fed]:
    """Scoring running as it does in production (relay, publisher), on the real clock; the
    publisher's longest sleep is a minute, so only a poke wakes it sooner."""
    settings = await make_settings("scoring", outbox_retention_hours=24 * 365, scoring_publisher_max_sleep=60)
    runtime = Runtime(definitions(["scoring"]), settings)
    async with serving(runtime) as client:
        yield Fed(runtime, client)


PROCEDURE = {"code": "1.001", "name": "Thủ tục", "field_code": None, "field_name": None}


async def received(scoring: Fed, key: str, unit: str, at: datetime, due: datetime, channel: int = 2) -> None:
    data = {
        "ma_ho_so": key,
        "unit": unit,
        "procedure": PROCEDURE,
        "channel": channel,
        "received_at": at.isoformat(),
        "due_at": due.isoformat(),
        "rule_set": "nd61",
        "origin": "sync",
    }
    await scoring.deliver([envelope("dossier.received", key, data, at, "cchc.dossiers")])


async def resolved(
    scoring: Fed, key: str, unit: str, at: datetime, due: datetime, finished: datetime, **extra: Any
) -> None:
    data = {
        "ma_ho_so": key,
        "unit": unit,
        "procedure": PROCEDURE,
        "status": 10,
        "received_at": at.isoformat(),
        "finished_at": finished.isoformat(),
        "due_at": due.isoformat(),
        "timeliness": "x",
        "on_time": True,
        "supplement_count": 0,
        "channel": 2,
        "paid_online": 1,
        "has_fees": True,
        "digitised": 1,
        "documents_digitised": 1,
        "documents_reused": 0,
        "rule_set": "nd61",
        **extra,
    }
    await scoring.deliver([envelope("dossier.resolved", key, data, finished, "cchc.dossiers")])


async def two_units(scoring: Fed) -> None:
    await scoring.unit("P1", None, "province")
    await scoring.unit("C1", "P1")
    await scoring.unit("C2", "P1")
