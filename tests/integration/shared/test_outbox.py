"""The transactional outbox and its relay, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from shared.clock import ManualClock
from shared.events import CloudEvent
from tests.support import probe
from tests.support.outbox import RecordingBus


async def test_committed_events_are_published_in_order_as_cloudevents(probe_runtime):
    bus = RecordingBus()
    runtime = await probe_runtime(event_bus=bus, relays=False, consumes=False)
    context = runtime["probe"]
    emitted = await probe.note(context, "one", "two", key="A-1")
    emitted += await probe.note(context, "three", key="A-1")

    assert await context.relay.drain() == 3
    received = [CloudEvent.from_json(m.value) for m in bus.published]
    assert [e.id for e in received] == emitted
    assert [e.data["note"] for e in received] == ["one", "two", "three"]
    first = received[0]
    assert (first.specversion, first.source, first.type, first.subject) == (
        "1.0",
        "/cchc/probe",
        "vn.cchc.probe.noted.v1",
        "A-1",
    )
    assert {m.key for m in bus.published} == {"A-1"} and {m.topic for m in bus.published} == {"cchc.probe"}
    assert first.time.tzinfo is not None
    assert await probe.unpublished(context) == 0
    assert await probe.outbox_count(context) == 0, "without a retention, published events leave the outbox"
    assert await context.relay.drain() == 0, "a published event is never published again"


async def test_events_of_a_rolled_back_transaction_are_never_published(probe_runtime):
    bus = RecordingBus()
    runtime = await probe_runtime(event_bus=bus, relays=False, consumes=False)
    context = runtime["probe"]
    async with context.uow() as uow:
        uow.emit(probe.Noted(key="k", note="explicit rollback"))
        await uow.rollback()
    with pytest.raises(RuntimeError):
        async with context.uow() as uow:
            uow.emit(probe.Noted(key="k", note="failed request"))
            raise RuntimeError("the request failed before commit")
    async with context.uow() as uow:
        uow.emit(probe.Noted(key="k", note="never committed"))

    assert await probe.outbox_count(context) == 0
    assert await context.relay.drain() == 0
    assert bus.published == []


async def test_events_committed_while_the_bus_is_down_are_published_after_a_restart(probe_runtime):
    bus = RecordingBus()
    bus.down = True
    first = await probe_runtime(event_bus=bus, relays=False, consumes=False)
    context = first["probe"]
    await probe.note(context, "during outage 1", "during outage 2")
    with pytest.raises(ConnectionError):
        await context.relay.publish_batch()
    assert await probe.unpublished(context) == 2
    await first.stop()  # the process dies

    bus.down = False
    restarted = await probe_runtime(event_bus=bus, consumes=False)  # same databases, relay running
    for _ in range(200):  # the relay marks the batch right after the bus took it
        if await probe.unpublished(restarted["probe"]) == 0:
            break
        await asyncio.sleep(0.05)
    assert await probe.unpublished(restarted["probe"]) == 0
    assert [CloudEvent.from_json(m.value).data["note"] for m in bus.published] == ["during outage 1", "during outage 2"]


async def test_the_relay_is_woken_by_a_commit_not_by_its_idle_timer(probe_runtime):
    bus = RecordingBus()
    runtime = await probe_runtime(event_bus=bus, consumes=False, relay_idle_interval=60)
    await asyncio.sleep(0.1)  # the relay has found nothing and sleeps for up to 60 s
    await probe.note(runtime["probe"], "wake up")
    await asyncio.wait_for(bus.delivered.wait(), timeout=5)
    assert len(bus.published) == 1


async def test_committed_events_reach_the_consumer_once_through_the_running_relay(probe_runtime):
    runtime = await probe_runtime()
    context = runtime["probe"]
    await probe.note(context, *(f"n{i}" for i in range(25)))
    for _ in range(100):
        if len(await probe.effect_notes(context)) == 25:
            break
        await asyncio.sleep(0.05)
    assert await probe.effect_notes(context) == [f"n{i}" for i in range(25)]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("retention_hours", [0, 72], ids=["deleted", "kept"])
async def test_concurrent_relays_on_postgres_publish_each_event_once_and_in_order(probe_runtime, retention_hours):
    bus = RecordingBus()
    runtime = await probe_runtime(
        event_bus=bus, relays=False, consumes=False, relay_batch_size=7, outbox_retention_hours=retention_hours
    )
    context = runtime["probe"]
    for i in range(20):
        await probe.note(context, *(f"{i}-{j}" for j in range(5)))
    other = type(context.relay)(
        "probe",
        context.db,
        context.definition.tables,
        bus,
        context.clock,
        batch_size=7,
        retention=timedelta(hours=retention_hours),
    )

    await asyncio.gather(context.relay.drain(), other.drain(), context.relay.drain())
    await context.relay.drain()

    notes = [CloudEvent.from_json(m.value).data["note"] for m in bus.published]
    assert notes == [f"{i}-{j}" for i in range(20) for j in range(5)]
    assert await probe.unpublished(context) == 0
    assert await probe.outbox_count(context) == (100 if retention_hours else 0)


async def test_published_events_are_purged_after_the_retention_and_unpublished_ones_never(probe_runtime):
    clock = ManualClock(probe.utc(2026, 1, 5, 8))
    bus = RecordingBus()
    runtime = await probe_runtime(event_bus=bus, relays=False, consumes=False, outbox_retention_hours=72, clock=clock)
    context = runtime["probe"]
    await probe.note(context, "old")
    await context.relay.drain()
    clock.advance(timedelta(hours=71))
    await probe.note(context, "recent")
    await context.relay.drain()
    bus.down = True
    await probe.note(context, "not yet published")

    clock.advance(timedelta(hours=2))
    assert await context.relay.purge() == 1
    assert await probe.outbox_count(context) == 2
    assert await probe.unpublished(context) == 1


async def test_a_relay_without_retention_deletes_the_events_kept_under_an_earlier_one(probe_runtime):
    bus = RecordingBus()
    runtime = await probe_runtime(event_bus=bus, relays=False, consumes=False, outbox_retention_hours=72)
    context = runtime["probe"]
    await probe.note(context, "kept")
    await context.relay.drain()
    assert await probe.outbox_count(context) == 1
    without = type(context.relay)("probe", context.db, context.definition.tables, bus, context.clock)

    running = asyncio.create_task(without.run())
    try:
        for _ in range(100):
            if await probe.outbox_count(context) == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        running.cancel()
    assert await probe.outbox_count(context) == 0
    assert [CloudEvent.from_json(m.value).data["note"] for m in bus.published] == ["kept"], "nothing is published again"


async def test_a_batch_takes_whole_units_of_work_up_to_the_batch_size(probe_runtime):
    bus = RecordingBus()
    runtime = await probe_runtime(event_bus=bus, relays=False, consumes=False, relay_batch_size=7)
    context = runtime["probe"]
    sizes = [5, 5, 20, 5]
    for i, size in enumerate(sizes):
        await probe.note(context, *(f"{i}-{j}" for j in range(size)))
    assert await context.relay.backlog() == 35

    assert await context.relay.publish_batch() == 10, "the second unit of work starts at 5, below 7; the third at 10"
    assert await context.relay.publish_batch() == 20, "a unit of work is never split"
    assert await context.relay.publish_batch() == 5
    assert await context.relay.publish_batch() == 0
    notes = [CloudEvent.from_json(m.value).data["note"] for m in bus.published]
    assert notes == [f"{i}-{j}" for i, size in enumerate(sizes) for j in range(size)]


async def test_a_key_with_a_line_break_is_refused_and_nothing_is_committed(probe_runtime):
    runtime = await probe_runtime(relays=False, consumes=False)
    context = runtime["probe"]
    with pytest.raises(ValueError, match="line break"):
        await probe.note(context, "bad", key="A\n1")
    assert await context.relay.backlog() == 0
    assert await probe.outbox_count(context) == 0


async def test_a_before_commit_hook_writes_in_the_transaction_once_and_a_rollback_forgets_it(probe_runtime):
    bus = RecordingBus()
    runtime = await probe_runtime(event_bus=bus, relays=False, consumes=False)
    context = runtime["probe"]
    ran: list[str] = []

    async def hook() -> None:
        ran.append("hook")
        uow.emit(probe.Noted(key="k", note="written by the hook"))

    async with context.uow() as uow:
        uow.before_commit(hook)
        uow.gathered["batch"] = ["something"]
        await uow.rollback()
        assert uow.gathered == {}
        await uow.commit()  # the rolled-back transaction's hook does not run
    assert ran == [] and await probe.outbox_count(context) == 0

    async with context.uow() as uow:
        uow.before_commit(hook)
        await uow.commit()
        await uow.commit()  # a second commit does not run it again
    assert ran == ["hook"]
    assert await context.relay.drain() == 1
    assert [CloudEvent.from_json(m.value).data["note"] for m in bus.published] == ["written by the hook"]
