"""Fixtures of the kernel's database helper tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from shared.db import Database


@pytest.fixture
async def database(make_settings: Callable[..., Any], request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A database on the chosen backend holding the test module's own tables (its ``metadata``)."""
    db = Database((await make_settings("scoring")).database_url("scoring"))
    async with db.engine.begin() as connection:
        await connection.run_sync(request.module.metadata.create_all)
    yield db
    await db.dispose()
