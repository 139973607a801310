"""Idempotent consumers, bounded retries and dead letters, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from shared.bus.base import Message
from shared.bus.inprocess import InProcessBus
from shared.clock import VN_TZ
from shared.consumer import ANY_TYPE, EarlierPartFailed, EventConsumer, Subscription
from shared.events import CloudEvent
from tests.support import probe
from tests.support.notifications import eventually


def as_messages(events) -> list[Message]:
    return [Message(topic="cchc.probe", key=e.subject, value=e.to_json().encode()) for e in events]


async def committed_events(context, *notes):
    """Events committed to the outbox, handed to the consumer by the test itself."""
    return await probe.outbox_events(context, await probe.note(context, *notes))


async def test_a_redelivered_event_has_its_effect_once(probe_runtime):
    runtime = await probe_runtime(relays=False)
    context = runtime["probe"]
    consumer = context.consumer()
    events = await committed_events(context, "a", "b")

    await consumer(as_messages(events))
    await consumer(as_messages(events))  # at-least-once: the bus delivers again
    await consumer(as_messages(events[1:] + events[:1]))

    assert await probe.effect_notes(context) == ["a", "b"]


async def test_an_event_twice_in_one_batch_has_its_effect_once(probe_runtime):
    runtime = await probe_runtime(relays=False)
    context = runtime["probe"]
    events = await committed_events(context, "a", "b")

    await context.consumer()(as_messages([events[0], events[1], events[0]]))

    assert await probe.effect_notes(context) == ["a", "b"]


async def test_a_poison_event_is_dead_lettered_and_the_rest_of_the_batch_is_handled(probe_runtime):
    runtime = await probe_runtime(relays=False, consumer_max_attempts=3)
    context = runtime["probe"]
    probe.Behaviour.poison = {"bad"}
    events = await committed_events(context, "good 1", "bad", "good 2")

    await context.consumer()(as_messages(events))

    assert await probe.effect_notes(context) == ["good 1", "good 2"]
    letters = await context.dead_letters.pending()
    assert len(letters) == 1
    letter = letters[0]
    assert letter.consumer == "cchc.probe" and letter.attempts == 3
    assert "cannot handle note 'bad'" in letter.error
    assert letter.message.value == events[1].to_json().encode()
    async with context.db.session() as session:
        stored = await session.scalar(select(probe.kernel.dead_letters.c.event_id))
    assert stored == events[1].id, "operators can find a dead letter by its event id"


async def test_an_unreadable_message_is_dead_lettered_at_once(probe_runtime):
    runtime = await probe_runtime(relays=False)
    context = runtime["probe"]
    good = await committed_events(context, "fine")

    await context.consumer()([Message(topic="cchc.probe", key="x", value=b"{not json"), *as_messages(good)])

    assert await probe.effect_notes(context) == ["fine"]
    [letter] = await context.dead_letters.pending()
    assert letter.attempts == 1 and "unreadable event" in letter.error


async def test_an_infrastructure_fault_is_not_dead_lettered_but_raised_for_redelivery(probe_runtime):
    runtime = await probe_runtime(relays=False)
    context = runtime["probe"]
    probe.Behaviour.transient_failures = 1
    events = await committed_events(context, "after outage")

    with pytest.raises(OperationalError):
        await context.consumer()(as_messages(events))
    assert await context.dead_letters.pending() == []

    await context.consumer()(as_messages(events))  # the bus delivers it again later
    assert await probe.effect_notes(context) == ["after outage"]


async def test_events_the_consumer_does_not_handle_are_ignored(probe_runtime):
    runtime = await probe_runtime(relays=False)
    context = runtime["probe"]
    [event] = await committed_events(context, "x")
    other = event.model_copy(update={"type": "vn.cchc.something.else.v1"})

    await context.consumer()(as_messages([other]))

    assert await probe.effect_notes(context) == []
    assert await context.dead_letters.pending() == []


async def test_a_failing_consumer_does_not_block_the_relay(probe_runtime):
    bus = InProcessBus()
    runtime = await probe_runtime(event_bus=bus, relays=False, consumer_max_attempts=2)
    context = runtime["probe"]
    probe.Behaviour.poison = {"poison"}
    await probe.note(context, "before", "poison", "after")

    assert await context.relay.drain() == 3
    assert await probe.effect_notes(context) == ["before", "after"]
    assert len(await context.dead_letters.pending()) == 1


async def test_every_handler_of_a_type_runs_and_a_star_handler_gets_every_type_of_its_topic(probe_runtime):
    runtime = await probe_runtime(relays=False)
    context = runtime["probe"]
    calls: list[tuple[str, str]] = []

    def recorder(name):
        async def handle(uow, event):
            calls.append((name, event.data["note"]))

        return handle

    consumer = EventConsumer(
        "cchc.fanout",
        [
            Subscription(topic="cchc.probe", handlers={probe.Noted.type: recorder("first")}),
            Subscription(
                topic="cchc.probe", handlers={probe.Noted.type: recorder("second"), ANY_TYPE: recorder("any")}
            ),
            Subscription(topic="cchc.other", handlers={ANY_TYPE: recorder("other topic")}),
        ],
        uow_factory=context.uow,
        processed=probe.kernel.processed_events,
        bus=runtime.bus,
        clock=runtime.clock,
    )
    assert consumer.topics == ["cchc.probe", "cchc.other"]
    [noted] = await committed_events(context, "a")
    unknown = CloudEvent(
        source="/cchc/probe", type="vn.cchc.probe.unheard_of.v1", time=noted.time, subject="k", data={"note": "b"}
    )

    await consumer(as_messages([noted, unknown]))
    await consumer(as_messages([noted, unknown]))  # redelivered: no second effect

    assert calls == [("first", "a"), ("second", "a"), ("any", "a"), ("any", "b")]


def keyed_batch(keys: int, per_key: int) -> list[Message]:
    """``keys`` × ``per_key`` noted events, each key's notes numbered in order, keys interleaved."""
    at = datetime(2025, 1, 2, 8, tzinfo=VN_TZ)
    events = [
        CloudEvent(source="/cchc/probe", type=probe.Noted.type, time=at, subject=f"k{k}", data={"note": f"k{k} {n}"})
        for n in range(per_key)
        for k in range(keys)
    ]
    return as_messages(events)


def lane_recorder(calls: list[tuple[str, int]], started: asyncio.Barrier):
    """The probe's handler, noting (note, its transaction); a transaction's first event waits
    until as many transactions as the barrier's parties have begun."""
    seen: set[int] = set()

    async def handle(uow, event):
        transaction = await uow.session.scalar(text("SELECT txid_current()"))
        if transaction not in seen:
            seen.add(transaction)
            await asyncio.wait_for(started.wait(), 10)
        await probe.on_noted(uow, event)
        calls.append((event.data["note"], transaction))

    return handle


def laned_consumer(runtime, handle=probe.on_noted, *, keyed: bool = True, lane_by=None) -> EventConsumer:
    return EventConsumer(
        "cchc.probe",  # the probe service's group: its dead letters go to its table
        [Subscription(topic="cchc.probe", handlers={probe.Noted.type: handle}, keyed=keyed, lane_by=lane_by)],
        uow_factory=runtime["probe"].uow,
        processed=probe.kernel.processed_events,
        bus=runtime.bus,
        clock=runtime.clock,
        max_attempts=2,
        backoff=0,
        lanes=2,
    )


def notes_of(batch: list[Message]) -> list[str]:
    return [json.loads(m.value)["data"]["note"] for m in batch]


def in_key_order(notes: list[str]) -> bool:
    by_key: dict[str, list[int]] = {}
    for note in notes:
        key, number = note.split()
        by_key.setdefault(key, []).append(int(number))
    return all(numbers == sorted(numbers) for numbers in by_key.values())


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_large_keyed_batch_is_applied_in_concurrent_lanes_each_key_in_order(probe_runtime):
    runtime = await probe_runtime(relays=False)
    calls: list[tuple[str, int]] = []
    batch = keyed_batch(keys=40, per_key=12)  # 480 events: two lanes of at least LANE_EVENTS
    consumer = laned_consumer(runtime, lane_recorder(calls, asyncio.Barrier(2)))

    await consumer(batch)  # each lane's first event waits for the other lane's: they overlap, or this times out
    await consumer(batch)  # redelivered: no second effect

    stored = await probe.effect_notes(runtime["probe"])
    assert sorted(stored) == sorted(notes_of(batch)) and in_key_order(stored)
    lane_of = {note.split()[0]: transaction for note, transaction in calls}
    assert len(set(lane_of.values())) == 2
    assert all(lane_of[note.split()[0]] == transaction for note, transaction in calls), "a key spans lanes"


def group_of(key: str) -> str:
    """Five groups of eight keys each (k0, k5, k10... in one)."""
    return f"g{int(key.removeprefix('k')) % 5}"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_keys_alike_by_the_subscriptions_lane_by_share_a_lane(probe_runtime):
    runtime = await probe_runtime(relays=False)
    calls: list[tuple[str, int]] = []
    batch = keyed_batch(keys=40, per_key=12)
    consumer = laned_consumer(
        runtime, lane_recorder(calls, asyncio.Barrier(1)), lane_by=lambda event: group_of(event.subject)
    )

    await consumer(batch)

    stored = await probe.effect_notes(runtime["probe"])
    assert sorted(stored) == sorted(notes_of(batch)) and in_key_order(stored)
    lanes_of_group: dict[str, set[int]] = {}
    for note, transaction in calls:
        lanes_of_group.setdefault(group_of(note.split()[0]), set()).add(transaction)
    assert len(lanes_of_group) == 5 and all(len(lanes) == 1 for lanes in lanes_of_group.values()), lanes_of_group


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("keyed, per_key", [(False, 12), (True, 9)])  # 480 events not keyed; 360: under two lanes
async def test_a_batch_stays_one_transaction_unless_its_topic_is_keyed_and_it_is_large(probe_runtime, keyed, per_key):
    runtime = await probe_runtime(relays=False)
    batch = keyed_batch(keys=40, per_key=per_key)
    calls: list[tuple[str, int]] = []

    await laned_consumer(runtime, lane_recorder(calls, asyncio.Barrier(1)), keyed=keyed)(batch)

    assert len(calls) == len(batch) and len({transaction for _, transaction in calls}) == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_poison_event_in_one_lane_is_dead_lettered_and_every_other_event_is_applied(probe_runtime):
    runtime = await probe_runtime(relays=False)
    probe.Behaviour.poison = {"k7 3"}
    batch = keyed_batch(keys=40, per_key=12)

    await laned_consumer(runtime)(batch)

    stored = await probe.effect_notes(runtime["probe"])
    assert sorted(stored) == sorted(set(notes_of(batch)) - {"k7 3"}) and in_key_order(stored)
    [letter] = await runtime["probe"].dead_letters.pending()
    assert "cannot handle note 'k7 3'" in letter.error


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_an_infrastructure_fault_in_one_lane_is_raised_once_every_lane_has_finished(probe_runtime):
    runtime = await probe_runtime(relays=False)
    probe.Behaviour.transient_failures = 1  # the first event handled, in one lane
    batch = keyed_batch(keys=40, per_key=12)
    consumer = laned_consumer(runtime)

    with pytest.raises(OperationalError):
        await consumer(batch)
    assert 0 < len(await probe.effect_notes(runtime["probe"])) < len(batch), "the other lane committed"

    await consumer(batch)  # the bus delivers the batch again
    assert sorted(await probe.effect_notes(runtime["probe"])) == sorted(notes_of(batch))
    assert await runtime["probe"].dead_letters.pending() == []


def numbered_from(batch: list[Message], first: int) -> list[Message]:
    """The same keys' next notes: ``k3 0`` becomes ``k3 <first>``, with new event ids."""
    events = [CloudEvent.from_json(m.value) for m in batch]
    later = [
        CloudEvent(
            source=e.source,
            type=e.type,
            time=e.time,
            subject=e.subject,
            data={"note": f"{e.subject} {int(e.data['note'].split()[1]) + first}"},
        )
        for e in events
    ]
    return as_messages(later)


def held_on(key: str, release: asyncio.Event):
    """The probe's handler, except that ``key``'s first note waits for ``release``."""

    async def handle(uow, event):
        if event.data["note"] == f"{key} 0":
            await asyncio.wait_for(release.wait(), 10)
        await probe.on_noted(uow, event)

    return handle


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_batch_submitted_before_the_last_is_done_starts_where_it_can_and_keeps_each_key_in_order(
    probe_runtime,
):
    runtime = await probe_runtime(relays=False)
    release = asyncio.Event()
    consumer = laned_consumer(runtime, held_on("k0", release))
    first = keyed_batch(keys=40, per_key=12)
    second = numbered_from(first, 12)

    done = [consumer.submit(first), consumer.submit(second)]
    await eventually(lambda: later_stored(runtime))
    stored = await probe.effect_notes(runtime["probe"])
    assert not done[0].done() and not any(n.startswith("k0 ") for n in stored), "the first batch waits on k0"
    assert without_gaps(stored), "no key's later note before all its earlier ones"

    release.set()
    await asyncio.gather(*done)
    stored = await probe.effect_notes(runtime["probe"])
    assert sorted(stored) == sorted(notes_of(first) + notes_of(second)) and in_key_order(stored)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_part_of_a_later_batch_does_not_run_when_the_earlier_part_of_its_keys_failed(probe_runtime):
    runtime = await probe_runtime(relays=False)
    probe.Behaviour.transient_failures = 1  # the first event handled, in one lane of the first batch
    consumer = laned_consumer(runtime)
    first = keyed_batch(keys=40, per_key=12)
    second = numbered_from(first, 12)

    outcomes = await asyncio.gather(consumer.submit(first), consumer.submit(second), return_exceptions=True)
    assert isinstance(outcomes[0], OperationalError) and isinstance(outcomes[1], EarlierPartFailed), outcomes
    stored = await probe.effect_notes(runtime["probe"])
    assert without_gaps(stored) and any(int(n.split()[1]) >= 12 for n in stored), "the other lane went on"

    await consumer(first)  # the bus delivers both again
    await consumer(second)
    stored = await probe.effect_notes(runtime["probe"])
    assert sorted(stored) == sorted(notes_of(first) + notes_of(second)) and in_key_order(stored)


def without_gaps(notes: list[str]) -> bool:
    """Each key's notes are 0, 1, 2... in order, none missing."""
    by_key: dict[str, list[int]] = {}
    for note in notes:
        key, number = note.split()
        by_key.setdefault(key, []).append(int(number))
    return all(numbers == list(range(len(numbers))) for numbers in by_key.values())


async def later_stored(runtime) -> bool:
    """Some note of the second batch (numbered 12 on) is stored."""
    return any(int(n.split()[1]) >= 12 for n in await probe.effect_notes(runtime["probe"]))
