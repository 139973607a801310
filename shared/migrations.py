"""Alembic per service: each its own history (``services/<name>/migrations``) and version table."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def alembic_config(service: str, script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("service", service)
    return config


def upgrade(service: str, script_location: Path, url: str, revision: str = "head") -> None:
    """Apply a service's migrations (blocking: call through ``asyncio.to_thread`` from async code)."""
    command.upgrade(alembic_config(service, script_location, url), revision)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table": version_table(config.get_main_option("service") or "cchc"),
        "render_as_batch": True,
        "compare_type": True,
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        if url is None:
            raise RuntimeError("the Alembic configuration names no sqlalchemy.url")
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(online())
