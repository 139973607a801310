"""The Kafka path against a Kafka-protocol broker (librdkafka's mock cluster), with PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence

import pytest

from shared.bus.base import IN_FLIGHT, Message
from shared.bus.kafka import H_CONSUMER, H_ERROR, H_ORIGIN_TOPIC, KafkaBus, read_dead_letters, replay_dead_letters
from shared.events import CloudEvent
from shared.runtime import Runtime
from tests.plugins.kafka_mock import MockKafkaCluster
from tests.support import probe

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"], indirect=True)]


class Killed(BaseException):
    """The process dies (not an error the consumer loop may catch)."""


@pytest.fixture
def kafka(kafka_bootstrap: str) -> Iterator[str]:
    """A broker of its own for each test, so topics, offsets and groups never leak between tests."""
    with MockKafkaCluster() as cluster:
        yield cluster.bootstrap


def kafka_settings(bootstrap: str) -> dict[str, object]:
    return {
        "bus": "kafka",
        "kafka_bootstrap_servers": bootstrap,
        "kafka_partitions": 2,
        "kafka_session_timeout_ms": 2000,
        "kafka_heartbeat_interval_ms": 500,
    }


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def uncommitted(settings) -> list[Message]:
    """What a new consumer of the group is handed: the messages whose offsets are not committed."""
    listener = KafkaBus(settings, topics=["cchc.probe"])
    seen: list[Message] = []

    async def record(messages: Sequence[Message]) -> None:
        seen.extend(messages)

    listener.subscribe("cchc.probe", ["cchc.probe"], record)
    await listener.start()
    await asyncio.sleep(3)  # long enough to be handed anything not committed
    await listener.stop()
    return seen


async def notes_are(context, expected: list[str]) -> bool:
    return sorted(await probe.effect_notes(context)) == sorted(expected)


async def test_events_flow_from_the_outbox_through_kafka_and_offsets_are_committed(kafka, probe_runtime, make_settings):
    runtime = await probe_runtime(**kafka_settings(kafka))
    context = runtime["probe"]
    assert isinstance(runtime.bus, KafkaBus) and await runtime.bus.ping()
    await probe.note(context, "a1", "a2", key="A")
    await probe.note(context, "b1", key="B")

    await eventually(lambda: notes_are(context, ["a1", "a2", "b1"]))
    assert await probe.unpublished(context) == 0
    notes = await probe.effect_notes(context)
    assert notes.index("a1") < notes.index("a2"), "one aggregate's events keep their order"

    await runtime.stop()
    calls = probe.Behaviour.calls
    settings = await make_settings("probe", **kafka_settings(kafka))
    assert await uncommitted(settings) == [] and probe.Behaviour.calls == calls, (
        "committed offsets are not delivered again"
    )


async def test_a_consumer_killed_between_db_commit_and_offset_commit_does_not_duplicate_effects(
    kafka, probe_runtime, make_settings
):
    producer = await probe_runtime(consumes=False, **kafka_settings(kafka))
    context = producer["probe"]
    await probe.note(context, "only once", key="K")
    await eventually(lambda: _zero(context))

    settings = await make_settings("probe", **kafka_settings(kafka))
    doomed = KafkaBus(settings, topics=["cchc.probe"])
    consumer_side = Runtime([probe.definition()], settings, bus=doomed)
    consumer = consumer_side["probe"].consumer()
    died = asyncio.Event()

    async def handle_then_die(messages: Sequence[Message]) -> None:
        await consumer(messages)  # effects and the processed-event record are committed
        died.set()
        raise Killed()  # ...and the process dies before the offset commit

    doomed.subscribe("cchc.probe", ["cchc.probe"], handle_then_die)
    await doomed.start()
    await asyncio.wait_for(died.wait(), timeout=20)
    await doomed.stop()
    assert await probe.effect_notes(context) == ["only once"]

    redelivered: list[Message] = []

    async def handle(messages: Sequence[Message]) -> None:
        redelivered.extend(messages)
        await consumer(messages)

    survivor = KafkaBus(settings, topics=["cchc.probe"])
    survivor.subscribe("cchc.probe", ["cchc.probe"], handle)
    await survivor.start()
    try:
        await eventually(lambda: _true_if(redelivered))
    finally:
        await survivor.stop()
        await consumer_side.stop()
    assert [CloudEvent.from_json(m.value).data["note"] for m in redelivered] == ["only once"]
    assert await probe.effect_notes(context) == ["only once"], "the redelivered event had no second effect"


async def test_a_poison_message_lands_in_the_dead_letter_topic_and_the_next_one_is_processed(
    kafka, probe_runtime, make_settings
):
    probe.Behaviour.poison = {"poison"}
    runtime = await probe_runtime(consumer_max_attempts=2, **kafka_settings(kafka))
    context = runtime["probe"]
    await probe.note(context, "poison", "next", key="same-partition")

    await eventually(lambda: notes_are(context, ["next"]))
    settings = await make_settings("probe", **kafka_settings(kafka))
    letters = []

    async def dead_letters_arrived() -> bool:
        letters[:] = await read_dead_letters(settings, ["cchc.probe"], timeout=2)
        return len(letters) == 1

    await eventually(dead_letters_arrived)
    [letter] = letters
    assert letter.message.topic == "cchc.probe.dlt"
    assert letter.message.header(H_CONSUMER) == "cchc.probe"
    assert letter.message.header(H_ORIGIN_TOPIC) == "cchc.probe"
    assert "cannot handle note 'poison'" in (letter.message.header(H_ERROR) or "")
    assert CloudEvent.from_json(letter.message.value).data["note"] == "poison"

    probe.Behaviour.poison = set()  # the bug is fixed; replay the dead letter
    assert await replay_dead_letters(settings, ["cchc.probe"]) == 1
    await eventually(lambda: notes_are(context, ["next", "poison"]))
    assert await read_dead_letters(settings, ["cchc.probe"], timeout=1) == [], "a replayed letter is not pending"


async def test_a_poll_of_several_partitions_is_one_batch_and_a_failed_one_comes_back_whole(
    kafka, probe_runtime, make_settings
):
    """What one poll brings of a topic is handed on at once, its partitions' records together and
    each key's in order; a batch whose handler fails is delivered again, every partition of it, and
    once handled its offsets are committed."""
    producer = await probe_runtime(consumes=False, **kafka_settings(kafka))
    context = producer["probe"]
    keys = [f"K{n}" for n in range(12)]
    for key in keys:
        await probe.note(context, f"{key}-1", f"{key}-2", key=key)
    await eventually(lambda: _zero(context))

    settings = await make_settings("probe", **kafka_settings(kafka))
    listener = KafkaBus(settings, topics=["cchc.probe"])
    batches: list[list[Message]] = []

    async def fail_once(messages: Sequence[Message]) -> None:
        batches.append(list(messages))
        if len(batches) == 1:
            raise RuntimeError("the database is away")

    listener.subscribe("cchc.probe", ["cchc.probe"], fail_once)
    await listener.start()
    try:
        await eventually(lambda: _handled(batches[1:], 2 * len(keys)))
    finally:
        await listener.stop()
    failed, *handled = batches
    assert len({m.partition for m in failed}) > 1, "several partitions in one batch"
    later = [m for batch in handled for m in batch]
    assert {(m.partition, m.offset) for m in failed} <= {(m.partition, m.offset) for m in later}, "all again"
    notes = [CloudEvent.from_json(m.value).data["note"] for m in later]
    assert sorted(notes) == sorted(f"{key}-{n}" for key in keys for n in (1, 2))
    assert all(notes.index(f"{key}-1") < notes.index(f"{key}-2") for key in keys), "each key's events in order"

    assert await uncommitted(settings) == [], "the second delivery's offsets were committed, every partition's"


async def _handled(batches: list[list[Message]], count: int) -> bool:
    return sum(len(b) for b in batches) >= count


async def _zero(context) -> bool:
    return await probe.unpublished(context) == 0


async def _true_if(items: list[Message]) -> bool:
    return bool(items)


@pytest.mark.parametrize("wait_ms", [20, 1500])
async def test_a_fetch_waits_at_the_broker_no_longer_than_the_setting(kafka, make_settings, wait_ms):
    """librdkafka's mock broker holds every fetch for the consumer's whole ``fetch.max.wait.ms``, so
    a record sent while the consumer idles arrives when that wait ends: at once with 20 ms, and
    with 1,500 ms (the control: the delay is the setting's) well over a second later."""
    settings = await make_settings("probe", **kafka_settings(kafka), kafka_fetch_max_wait_ms=wait_ms)
    bus = KafkaBus(settings, topics=["cchc.probe"])
    arrived: asyncio.Queue[float] = asyncio.Queue()

    async def note_arrival(messages: Sequence[Message]) -> None:
        for _ in messages:
            arrived.put_nowait(asyncio.get_running_loop().time())

    bus.subscribe("cchc.probe", ["cchc.probe"], note_arrival)
    await bus.start()
    try:
        await bus.publish([Message("cchc.probe", "K", b"{}")])
        await asyncio.wait_for(arrived.get(), 20)  # the group has joined and reads the topic
        delays = []
        for _ in range(3):
            await asyncio.sleep(0.1)  # the consumer's next fetch is already waiting at the broker
            sent = asyncio.get_running_loop().time()
            await bus.publish([Message("cchc.probe", "K", b"{}")])
            delays.append(await asyncio.wait_for(arrived.get(), 20) - sent)
    finally:
        await bus.stop()
    if wait_ms == 20:
        assert max(delays) < 0.3, delays
    else:
        assert min(delays) > 1.0, delays


class Handing:
    """A pipelined handler whose batches are done when the test says; later ones at once if ``auto``."""

    def __init__(self) -> None:
        self.batches: list[list[Message]] = []
        self.done: list[asyncio.Future[None]] = []
        self.auto = False

    def submit(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        self.batches.append(list(messages))
        self.done.append(asyncio.get_running_loop().create_future())
        if self.auto:
            self.done[-1].set_result(None)
        return self.done[-1]

    async def __call__(self, messages: Sequence[Message]) -> None:
        await self.submit(messages)


async def test_a_pipelined_handler_gets_the_next_batch_before_the_last_is_done_and_a_failure_brings_both_back(
    kafka, probe_runtime, make_settings
):
    producer = await probe_runtime(consumes=False, **kafka_settings(kafka))
    context = producer["probe"]
    for n in range(24):
        await probe.note(context, f"n{n}", key=f"K{n}")
    await eventually(lambda: _zero(context))

    settings = await make_settings("probe", **kafka_settings(kafka), kafka_max_records=6)
    listener = KafkaBus(settings, topics=["cchc.probe"])
    handler = Handing()
    listener.subscribe("cchc.probe", ["cchc.probe"], handler)
    await listener.start()
    try:
        await eventually(lambda: _true_if(handler.batches[1:]))
        await asyncio.sleep(0.5)
        assert len(handler.batches) == IN_FLIGHT == 2, "the next batch is handed on, no more than IN_FLIGHT"
        handler.auto = True
        handler.done[1].set_result(None)  # the later batch is done first; the earlier one fails
        handler.done[0].set_exception(RuntimeError("the database is away"))
        await eventually(lambda: _handled(handler.batches[2:], 24))
    finally:
        await listener.stop()
    first_two = {(m.partition, m.offset) for batch in handler.batches[:2] for m in batch}
    again = {(m.partition, m.offset) for batch in handler.batches[2:] for m in batch}
    assert first_two <= again, "both batches came again"
    assert await uncommitted(settings) == [], "the offsets of everything handled were committed"
