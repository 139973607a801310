"""Every service's Alembic history builds exactly the schema its models declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from services.catalog import definitions
from shared.migrations import version_table
from shared.runtime import Runtime
from shared.settings import SERVICE_NAMES


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_migrations_match_the_models(make_settings, service):
    runtime = Runtime(definitions([service]), await make_settings(service))
    context = runtime[service]
    try:
        await context.migrate()
        await context.migrate()  # applying twice is a no-op

        def differences(connection) -> list:
            migration = MigrationContext.configure(connection, opts={"version_table": version_table(service)})
            return compare_metadata(migration, context.definition.metadata)

        def tables(connection) -> set[str]:
            return set(inspect(connection).get_table_names())

        async with context.db.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
            assert {"outbox", "processed_events", "dead_letters", version_table(service)} <= await connection.run_sync(tables)
    finally:
        await runtime.stop()
