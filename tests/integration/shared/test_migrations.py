"""Every service's Alembic history builds exactly the schema its models declare."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import bindparam, inspect, text

from services.catalog import SERVICE_NAMES, definitions
from shared.db import UTCDateTime
from shared.events import CloudEvent
from shared.migrations import alembic_config, version_table
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from tests.support.outbox import RecordingBus, committed_events
from tests.support.probe import Noted, utc


def for_dialect(dialect: str) -> Callable[..., bool]:
    """Leave out of the comparison what the models declare for another database only
    (``Index(...).ddl_if(dialect=...)``: the trigram index of plans is PostgreSQL's)."""

    def include(obj, _name, _type, _reflected, _compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)

    return include


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_migrations_match_the_models(make_settings, service):
    runtime = Runtime(definitions([service]), await make_settings(service))
    context = runtime[service]
    try:
        await context.migrate()
        await context.migrate()  # applying twice is a no-op

        def differences(connection) -> list:
            opts = {"version_table": version_table(service), "include_object": for_dialect(connection.dialect.name)}
            migration = MigrationContext.configure(connection, opts=opts)
            return compare_metadata(migration, context.definition.metadata)

        def tables(connection) -> set[str]:
            return set(inspect(connection).get_table_names())

        async with context.db.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
            assert {"outbox", "processed_events", "dead_letters", version_table(service)} <= await connection.run_sync(
                tables
            )
    finally:
        await runtime.stop()


async def test_the_outbox_moves_to_one_row_per_unit_of_work_and_back_keeping_every_event(make_settings, backend):
    """Kernel revision v2 (scoring 0002): rows of the old outbox carry over, in order, published or not."""
    runtime = Runtime(definitions(["scoring"]), await make_settings("scoring"))
    context = runtime["scoring"]
    d, url = context.definition, context.db.url

    async def migrate(step: Callable[..., None], revision: str) -> None:
        await asyncio.to_thread(step, alembic_config("scoring", d.migrations, url), revision)
        await context.db.engine.dispose()  # pooled connections may hold plans of the replaced table

    old = [
        CloudEvent(
            source="/cchc/scoring", type="vn.cchc.test.old.v1", time=utc(2026, 1, 5, 8), subject=f"K{i}", data={"n": i}
        )
        for i in range(3)
    ]
    try:
        await migrate(command.upgrade, "0001")
        async with context.db.engine.begin() as connection:
            for i, event in enumerate(old):
                await connection.execute(
                    text(
                        "INSERT INTO outbox (event_id, topic, key, type, payload, created_at, published_at)"
                        " VALUES (:id, 'cchc.scoring', :key, :type, :payload, :at, :published)"
                    ).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("published", type_=UTCDateTime())),
                    {
                        "id": event.id,
                        "key": event.subject,
                        "type": event.type,
                        "payload": event.to_json(),
                        "at": event.time,
                        "published": event.time if i == 0 else None,
                    },
                )
        await migrate(command.upgrade, "head")
        if backend == "postgres":
            async with context.db.engine.connect() as connection:
                methods = await connection.execute(
                    text(
                        "SELECT attname, attcompression::text FROM pg_attribute WHERE attrelid = 'outbox'::regclass AND attcompression <> ''"
                    )
                )
                assert dict(methods.all()) == {"event_keys": "l", "payload": "l"}, (
                    "the packed events are compressed with lz4"
                )
        assert [e["id"] for e in await committed_events(context)] == [e.id for e in old]
        assert await context.relay.backlog() == 2, "the published one stays published"
        async with context.uow() as uow:
            new = [uow.emit(Noted(key="K3", note="a")), uow.emit(Noted(key="K4", note="b"))]
            await uow.commit()

        await migrate(command.downgrade, "0001")
        async with context.db.engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT event_id, key, type, published_at IS NULL FROM outbox ORDER BY id")
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            (old[0].id, "K0", old[0].type, False),
            (old[1].id, "K1", old[1].type, True),
            (old[2].id, "K2", old[2].type, True),
            (new[0], "K3", "vn.cchc.probe.noted.v1", True),
            (new[1], "K4", "vn.cchc.probe.noted.v1", True),
        ]

        await migrate(command.upgrade, "head")
        bus = RecordingBus()
        relay = OutboxRelay("scoring", context.db, d.tables, bus, context.clock)
        assert await relay.drain() == 4
        assert [(m.key, CloudEvent.from_json(m.value).id) for m in bus.published] == [
            ("K1", old[1].id),
            ("K2", old[2].id),
            ("K3", new[0]),
            ("K4", new[1]),
        ]
    finally:
        await runtime.stop()
