"""A consumer remembers the events it processed for the retention, then forgets them (SQLite and
PostgreSQL): within the window a redelivery has no effect; the table does not grow for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shared import processed_events
from shared.bus.base import Message
from shared.clock import ManualClock
from shared.events import CloudEvent
from tests.support import probe

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def as_messages(events: list[CloudEvent]) -> list[Message]:
    return [Message(topic="cchc.probe", key=e.subject, value=e.to_json().encode()) for e in events]


async def remembered(context) -> int:
    async with context.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(probe.kernel.processed_events)) or 0)


async def test_processed_events_are_forgotten_after_the_retention_and_not_before(probe_runtime, monkeypatch):
    monkeypatch.setattr(processed_events, "CHUNK", 2)  # several chunks
    clock = ManualClock(START)
    runtime = await probe_runtime(relays=False, clock=clock, processed_events_retention_hours=24)
    context = runtime["probe"]
    consumer = context.consumer()
    old = await probe.outbox_events(context, await probe.note(context, "a", "b", "c"))
    await consumer(as_messages(old))
    clock.advance(timedelta(hours=20))
    new = await probe.outbox_events(context, await probe.note(context, "d"))
    await consumer(as_messages(new))

    assert await context.processed_events.purge() == 0  # nothing is a day old yet
    await consumer(as_messages(old))  # within the window a redelivery changes nothing
    assert await probe.effect_notes(context) == ["a", "b", "c", "d"]

    clock.advance(timedelta(hours=5))  # a, b, c are 25 hours old; d 5
    assert await context.processed_events.purge() == 3
    assert await remembered(context) == 1
    await consumer(as_messages(new))
    assert await probe.effect_notes(context) == ["a", "b", "c", "d"]  # d is still remembered
