"""A plans service per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.plans import KEEP_EVENTS, Plans, running_plans


@pytest.fixture
async def plans(make_settings: Callable[..., Any]) -> AsyncIterator[Plans]:
    async with running_plans(await make_settings("plans", outbox_retention_hours=KEEP_EVENTS)) as service:
        await service.load_demo_registry()
        yield service
