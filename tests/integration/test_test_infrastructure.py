"""Smoke tests for the session infrastructure: the PostgreSQL server and mock Kafka."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.plugins.postgres_server import PostgresServer


@pytest.mark.postgres
async def test_postgres_server_answers_and_creates_usable_databases(
    postgres_server: PostgresServer,
) -> None:
    admin = await asyncpg.connect(postgres_server.dsn("postgres"))
    try:
        version = await admin.fetchval("select version()")
    finally:
        await admin.close()
    assert version.startswith("PostgreSQL ")

    name = f"infra_{uuid.uuid4().hex[:8]}"
    url = await postgres_server.create_database(name)
    assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres_server.port}/{name}"

    conn = await asyncpg.connect(postgres_server.dsn(name))
    try:
        await conn.execute("create table item (id int primary key, label text not null)")
        await conn.executemany("insert into item values ($1, $2)", [(1, "a"), (2, "b")])
        rows = await conn.fetch("select id, label from item order by id")
    finally:
        await conn.close()
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]


@pytest.mark.postgres
def test_postgres_create_database_sync(postgres_server: PostgresServer) -> None:
    name = f"infra_sync_{uuid.uuid4().hex[:8]}"
    assert postgres_server.create_database_sync(name) == postgres_server.url(name)


@pytest.mark.kafka
async def test_mock_kafka_round_trips_and_commits_offsets(kafka_bootstrap: str) -> None:
    topic = f"infra-{uuid.uuid4().hex[:8]}"
    group = f"infra-group-{uuid.uuid4().hex[:8]}"

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k1")
    finally:
        await producer.stop()

    consumer = _consumer(topic, group, kafka_bootstrap)
    await consumer.start()
    try:
        record = await consumer.getone()
        assert (record.key, record.value) == (b"k1", b"hello")
        await consumer.commit()
    finally:
        await consumer.stop()
    partition = TopicPartition(topic, record.partition)

    # The mock cluster serves one consumer per group, so the second runs after the first.
    second = _consumer(topic, group, kafka_bootstrap)
    await second.start()
    try:
        async with asyncio.timeout(10):
            while partition not in second.assignment():
                await asyncio.sleep(0.05)
        assert await second.committed(partition) == record.offset + 1
        assert await second.position(partition) == record.offset + 1
        assert await second.getmany(timeout_ms=500) == {}
    finally:
        await second.stop()


def _consumer(topic: str, group: str, bootstrap: str) -> AIOKafkaConsumer:
    """A manual-commit consumer that reads ``topic`` from the beginning.

    A short session timeout matters: after a member leaves, the mock broker
    holds the next join for ``session_timeout_ms - 1000`` ms.
    """
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
