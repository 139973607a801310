"""A running dossiers service (SQLite and PostgreSQL) on a manual clock, with an HTTP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.catalog import definitions
from services.dossiers.models import directory
from shared.clock import VN_TZ, ManualClock
from shared.events import CloudEvent
from shared.runtime import Runtime
from tests.support.outbox import committed_events
from tests.support.runtime import serving

EXAMPLES = Path(__file__).parents[3] / "fixtures" / "dvcqg"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@dataclass
class Dossiers:
    runtime: Runtime
    client: httpx.AsyncClient
    clock: ManualClock

    async def events(self, kind: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        """Events the service committed to its outbox, oldest first, as CloudEvent dicts."""
        return await committed_events(self.runtime["dossiers"], kind, key)

    async def push(self, records: list[dict[str, Any]], service: str = "DongBoHoSoMC") -> dict[str, Any]:
        response = await self.client.post(
            "/dossiers/v1/sync/dvcqg", json={"service": service, "isUpdating": False, "data": records}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def register_unit(
        self, code: str, name: str, *, parent: str | None = None, version: int = 1, level: str = "commune"
    ) -> None:
        """What a ``unit.upserted`` from plans does to the units replica."""
        data = {"code": code, "name": name, "aliases": [], "level": level, "parent_code": parent, "version": version}
        await self._unit_event("vn.cchc.unit.upserted.v1", data)

    async def remove_unit(self, code: str, *, version: int) -> None:
        """What a ``unit.deleted`` from plans does to the units replica."""
        await self._unit_event("vn.cchc.unit.deleted.v1", {"code": code, "version": version})

    async def _unit_event(self, kind: str, data: dict[str, Any]) -> None:
        event = CloudEvent(source="/cchc/plans", type=kind, time=self.clock.now(), subject=data["code"], data=data)
        async with self.runtime["dossiers"].uow() as uow:
            await directory.handlers()[event.type](uow, event)
            await uow.commit()

    async def get(self, ma_ho_so: str) -> dict[str, Any]:
        response = await self.client.get(f"/dossiers/v1/dossiers/{ma_ho_so}")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def start_dossiers(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    async with AsyncExitStack() as running:

        async def start(now: datetime = datetime(2024, 4, 15, 8, 0, tzinfo=VN_TZ), **overrides: Any) -> Dossiers:
            # The tests read published events back from the outbox: keep them while the clock jumps days.
            # The recorded examples run to 13/05/2024 while the clock starts on 15/04: a tolerance of 60
            # days for instants past now lets them be replayed at it (test_sync_hostile checks the default).
            defaults = {"outbox_retention_hours": 24 * 365 * 10, "dossiers_future_tolerance_hours": 24 * 60}
            settings = await make_settings("dossiers", **{**defaults, **overrides})
            clock = ManualClock(now)
            runtime = Runtime(definitions(["dossiers"]), settings, clock=clock)
            client = await running.enter_async_context(serving(runtime))
            return Dossiers(runtime, client, clock)

        yield start


@pytest.fixture
async def dossiers(start_dossiers: Callable[..., Any]) -> Dossiers:
    return await start_dossiers()
