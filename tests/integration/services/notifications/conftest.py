"""A notifications service per test (SQLite and PostgreSQL) and its loopback peers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import pytest

from shared.clock import VN_TZ, ManualClock
from tests.support.live_server import live_server
from tests.support.notifications import Notifications, Receiver, running_notifications

START = datetime(2025, 3, 3, 8, 0, tzinfo=VN_TZ)  # a Monday


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def start_notifications(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """Start the service with setting overrides; ``schedulers=True`` runs its schedulers, ``clock`` a clock."""
    stack: list[Any] = []

    async def start(*, clock: Any = None, schedulers: bool = False, **overrides: Any) -> Notifications:
        settings = await make_settings("notifications", **overrides)
        manager = running_notifications(settings, clock=clock, schedulers=schedulers)
        stack.append(manager)
        return await manager.__aenter__()

    yield start
    for manager in reversed(stack):
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    """Serve a :class:`Receiver` on loopback; returns its base URL."""
    stack: list[Any] = []

    async def start(receiver: Receiver) -> str:
        manager = live_server(receiver.app())
        stack.append(manager)
        return await manager.__aenter__()

    yield start
    for manager in reversed(stack):
        await manager.__aexit__(None, None, None)
