"""Kafka adapter (aiokafka): idempotent producer, consumer groups committing after the handler."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared.bus.base import IN_FLIGHT, BatchHandler, DeadLetter, EventBus, Message, Pipelined
from shared.events import dead_letter_topic
from shared.settings import Settings

log = logging.getLogger(__name__)

# Headers a dead letter carries beside the original message's own.
H_CONSUMER = "x-cchc-consumer"
H_ERROR = "x-cchc-error"
H_ATTEMPTS = "x-cchc-attempts"
H_FAILED_AT = "x-cchc-failed-at"
H_ORIGIN_TOPIC = "x-cchc-origin-topic"
H_ORIGIN_PARTITION = "x-cchc-origin-partition"
H_ORIGIN_OFFSET = "x-cchc-origin-offset"
H_REPLAYED = "x-cchc-replayed-from"
DLT_REPLAY_GROUP = "cchc.dlt-replay"


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection options shared by producers, consumers and the admin client."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": settings.kafka_client_id,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        options["ssl_context"] = create_ssl_context(cafile=cafile)
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def to_message(record: Any) -> Message:
    return Message(
        topic=record.topic,
        key=record.key.decode() if record.key else "",
        value=record.value,
        headers=tuple((k, bytes(v)) for k, v in (record.headers or ())),
        partition=record.partition,
        offset=record.offset,
    )


class KafkaBus(EventBus):
    def __init__(self, settings: Settings, *, topics: Sequence[str] = ()) -> None:
        self._settings = settings
        self._options = client_options(settings)
        self._topics = list(topics)
        self._groups: dict[str, tuple[list[str], BatchHandler]] = {}
        self._consumers: dict[str, AIOKafkaConsumer] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._producer: AIOKafkaProducer | None = None
        self._positions: dict[tuple[str, TopicPartition], int] = {}

    def subscribe(self, group: str, topics: Sequence[str], handler: BatchHandler) -> None:
        self._groups[group] = (list(topics), handler)

    async def start(self) -> None:
        await self.ensure_topics()
        self._producer = AIOKafkaProducer(
            **self._options, enable_idempotence=True, acks="all", linger_ms=5, max_batch_size=1 << 20
        )
        await self._producer.start()
        for group, (topics, handler) in self._groups.items():
            consumer = AIOKafkaConsumer(
                *topics,
                **self._options,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
                session_timeout_ms=self._settings.kafka_session_timeout_ms,
                heartbeat_interval_ms=self._settings.kafka_heartbeat_interval_ms,
                fetch_max_wait_ms=self._settings.kafka_fetch_max_wait_ms,
            )
            await consumer.start()
            self._consumers[group] = consumer
            self._tasks.append(asyncio.create_task(self._consume(group, consumer, handler), name=f"kafka:{group}"))

    async def ensure_topics(self) -> None:
        """Create the event and dead-letter topics that are missing.

        A broker that refuses (no controller in its metadata, no permission) is logged, not
        fatal: topics may be provisioned by the operator or created on first use.
        """
        names = sorted({t for topic in self._topics for t in (topic, dead_letter_topic(topic))})
        if not names:
            return
        admin = AIOKafkaAdminClient(**self._options)
        try:
            await admin.start()
            missing = [n for n in names if n not in set(await admin.list_topics())]
            if missing:
                await admin.create_topics(
                    [
                        NewTopic(n, self._settings.kafka_partitions, self._settings.kafka_replication_factor)
                        for n in missing
                    ]
                )
        except TopicAlreadyExistsError:
            pass
        except Exception as exc:
            log.warning("could not create Kafka topics %s: %s", names, exc)
        finally:
            await admin.close()

    async def stop(self) -> None:
        """Stop without committing anything not yet handled."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for consumer in self._consumers.values():
            await consumer.stop()
        self._consumers.clear()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, messages: Sequence[Message]) -> None:
        producer = self._require_producer()
        futures = [await producer.send(m.topic, m.value, key=m.key.encode(), headers=list(m.headers)) for m in messages]
        await asyncio.gather(*futures)

    async def dead_letter(self, letter: DeadLetter) -> None:
        origin = letter.message
        headers = [
            *origin.headers,
            (H_CONSUMER, letter.consumer.encode()),
            (H_ERROR, letter.error[:2000].encode()),
            (H_ATTEMPTS, str(letter.attempts).encode()),
            (H_FAILED_AT, letter.failed_at.isoformat().encode()),
            (H_ORIGIN_TOPIC, origin.topic.encode()),
            (H_ORIGIN_PARTITION, str(origin.partition).encode()),
            (H_ORIGIN_OFFSET, str(origin.offset).encode()),
        ]
        await self._require_producer().send_and_wait(
            dead_letter_topic(origin.topic), origin.value, key=origin.key.encode(), headers=headers
        )

    async def ping(self) -> bool:
        if self._producer is None:
            return False
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout=3)
            return True
        except Exception:
            return False

    def lag(self) -> dict[tuple[str, str, int], int]:
        lags: dict[tuple[str, str, int], int] = {}
        for group, consumer in self._consumers.items():
            for tp in consumer.assignment():
                highwater = consumer.highwater(tp)
                position = self._positions.get((group, tp))
                if highwater is not None and position is not None:
                    lags[(group, tp.topic, tp.partition)] = max(highwater - position, 0)
        return lags

    def _require_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the Kafka bus is not started")
        return self._producer

    async def _consume(self, group: str, consumer: AIOKafkaConsumer, handler: BatchHandler) -> None:
        """Hand each topic's fetched records, all its partitions' in one batch, to the handler, then
        commit their offsets; never commit what was not handled.

        One batch per topic rather than per partition: a fetch of ``kafka_max_records`` spread over
        six partitions would otherwise come as six small batches, each its own transaction, too small
        for a consumer to split into lanes. A key lives in one partition, and a partition's records
        keep their order in the batch, so each key's events still come in order.

        A :class:`Pipelined` handler is given what has already been fetched while its last batches
        are still being handled, up to :data:`IN_FLIGHT` of them; offsets are committed batch by
        batch in order. When one fails, every partition is sought back to the first record not yet
        committed: that batch and the later ones come again (their handled events are deduplicated)."""
        batches: deque[Batch] = deque()  # fetched and not settled, in order: handed on first, then waiting
        fetching: asyncio.Task[list[Batch]] | None = None
        submit = handler.submit if isinstance(handler, Pipelined) else None
        depth = IN_FLIGHT if submit is not None else 1
        try:
            while True:
                handed = [b.done for b in batches if b.done is not None]
                if handed and (len(handed) >= depth or handed[0].done()):
                    if await self._settled(group, consumer, batches):
                        continue
                    if fetching is not None:  # what it brings comes after the failed batch: sought back too
                        batches.extend(await fetching)
                        fetching = None
                    self._seek_back(consumer, batches)
                    await asyncio.sleep(self._settings.consumer_retry_backoff)
                elif len(handed) < len(batches):
                    batch = batches[len(handed)]
                    messages = [to_message(r) for records in batch.parts.values() for r in records]
                    batch.done = submit(messages) if submit is not None else asyncio.ensure_future(handler(messages))
                else:  # fetch, or wait until the oldest batch is done
                    if fetching is None:
                        fetching = asyncio.create_task(self._fetch(group, consumer))
                    waits: list[asyncio.Future[Any]] = [fetching, *handed[:1]]
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    if fetching.done():
                        batches.extend(fetching.result())
                        fetching = None
        finally:
            for pending in [fetching, *(b.done for b in batches)]:
                if pending is not None:
                    pending.cancel()

    async def _fetch(self, group: str, consumer: AIOKafkaConsumer) -> list[Batch]:
        """What the consumer fetches next (waiting up to a second), one batch per topic."""
        try:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=self._settings.kafka_max_records)
        except KafkaError as exc:
            log.warning("consumer %s cannot fetch: %s", group, exc)
            await asyncio.sleep(self._settings.consumer_retry_backoff)
            return []
        by_topic: dict[str, dict[TopicPartition, list[Any]]] = {}
        for tp, records in fetched.items():
            by_topic.setdefault(tp.topic, {})[tp] = records
        return [Batch(topic, parts) for topic, parts in by_topic.items()]

    async def _settled(self, group: str, consumer: AIOKafkaConsumer, batches: deque[Batch]) -> bool:
        """Wait for the oldest batch and commit its offsets; False if it failed (once every batch
        handed on is done)."""
        batch = batches[0]
        assert batch.done is not None
        try:
            await batch.done
        except Exception:
            log.exception("consumer %s failed on %s; will redeliver", group, batch.topic)
            await asyncio.gather(*(b.done for b in batches if b.done is not None), return_exceptions=True)
            return False
        batches.popleft()
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.parts.items()}
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:  # e.g. a rebalance took a partition: it is redelivered, and deduplicated
            log.warning("consumer %s could not commit %s: %s", group, batch.topic, exc)
            return True
        self._positions.update({(group, tp): offset for tp, offset in offsets.items()})
        return True

    @staticmethod
    def _seek_back(consumer: AIOKafkaConsumer, batches: deque[Batch]) -> None:
        """Seek every partition to its first record not committed and drop the batches."""
        first: dict[TopicPartition, int] = {}
        for batch in batches:
            for tp, records in batch.parts.items():
                first.setdefault(tp, records[0].offset)
        for tp, offset in first.items():
            consumer.seek(tp, offset)
        batches.clear()


@dataclass
class Batch:
    """One topic's records of a fetch, until its offsets are committed; ``done`` once handed on."""

    topic: str
    parts: dict[TopicPartition, list[Any]]
    done: asyncio.Future[None] | None = None


async def read_dead_letters(settings: Settings, topics: Sequence[str], *, timeout: float = 5.0) -> list[DeadLetter]:
    """Dead letters not yet replayed, read from the dead-letter topics of ``topics``."""
    async with _DeadLetterReader(settings, topics) as reader:
        return await reader.read(timeout)


async def replay_dead_letters(settings: Settings, topics: Sequence[str], *, timeout: float = 5.0) -> int:
    """Send each pending dead letter back to its origin topic; consumers are idempotent."""
    async with _DeadLetterReader(settings, topics) as reader:
        letters = await reader.read(timeout)
        if not letters:
            return 0
        producer = AIOKafkaProducer(**client_options(settings), enable_idempotence=True, acks="all")
        await producer.start()
        try:
            for letter in letters:
                origin = letter.message
                headers = [(k, v) for k, v in origin.headers if not k.startswith("x-cchc-")]
                await producer.send_and_wait(
                    origin.header(H_ORIGIN_TOPIC) or origin.topic,
                    origin.value,
                    key=origin.key.encode(),
                    headers=[*headers, (H_REPLAYED, letter.ref.encode())],
                )
        finally:
            await producer.stop()
        await reader.commit()
    return len(letters)


class _DeadLetterReader:
    """Reads dead-letter topics from where the replay group left off up to their current end."""

    def __init__(self, settings: Settings, topics: Sequence[str]) -> None:
        self._topics = [dead_letter_topic(t) for t in topics]
        self._consumer = AIOKafkaConsumer(
            **client_options(settings),
            group_id=DLT_REPLAY_GROUP,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._read_up_to: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> _DeadLetterReader:
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def read(self, timeout: float) -> list[DeadLetter]:
        consumer = self._consumer
        await consumer._client.force_metadata_update()  # noqa: SLF001 - learn topics created meanwhile
        partitions = [
            TopicPartition(t, p) for t in self._topics for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            behind = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
            if not behind:
                break
            for tp, records in (await consumer.getmany(*behind, timeout_ms=500)).items():
                for record in records:
                    if record.offset < ends[tp]:
                        letters.append(_as_dead_letter(to_message(record)))
                        self._read_up_to[tp] = record.offset + 1
        return letters

    async def commit(self) -> None:
        if self._read_up_to:
            await self._consumer.commit(self._read_up_to)


def _as_dead_letter(message: Message) -> DeadLetter:
    failed_at = message.header(H_FAILED_AT)
    return DeadLetter(
        consumer=message.header(H_CONSUMER) or "",
        message=message,
        error=message.header(H_ERROR) or "",
        attempts=int(message.header(H_ATTEMPTS) or 0),
        failed_at=datetime.fromisoformat(failed_at) if failed_at else datetime.now(UTC),
        ref=f"{message.topic}/{message.partition}/{message.offset}",
    )
