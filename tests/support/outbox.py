"""Reading back what a service committed to its outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from shared.bus.base import Message
from shared.bus.inprocess import InProcessBus
from shared.outbox import unpack
from shared.service import ServiceContext


async def committed_events(
    context: ServiceContext, kind: str | None = None, key: str | None = None
) -> list[dict[str, Any]]:
    """The events still in the outbox (unpublished, or published and kept), oldest first, as
    CloudEvent dicts; only type ``vn.cchc.<kind>.v1`` and subject ``key`` when given. Read on the
    reader engine: a test polling it must not take SQLite's write lock, or the service it waits
    on can be kept from writing for seconds on a loaded machine."""
    outbox = context.definition.tables.outbox
    async with context.db.read_sessions() as session:
        rows = (await session.execute(select(outbox.c.event_keys, outbox.c.payload).order_by(outbox.c.id))).all()
    events = [json.loads(envelope) for keys, payload in rows for _, envelope in unpack(keys, payload)]
    return [
        e
        for e in events
        if (kind is None or e["type"] == f"vn.cchc.{kind}.v1") and (key is None or e["subject"] == key)
    ]


class RecordingBus(InProcessBus):
    """An in-process bus that remembers what it was given and can be 'down'."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Message] = []
        self.down = False
        self.delivered = asyncio.Event()

    async def publish(self, messages: Sequence[Message]) -> None:
        if self.down:
            raise ConnectionError("bus unreachable")
        await super().publish(messages)
        self.published.extend(messages)
        self.delivered.set()
