"""A running notifications service (SQLite and PostgreSQL) on a manual clock, fed dossier events
through the bus as the dossiers service publishes them, with an HTTP client."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.bus.base import Message
from shared.clock import VN_TZ, ManualClock
from shared.events import CloudEvent
from shared.runtime import Runtime
from tests.integration.services.dossiers.conftest import _noop
from tests.support.auth import admin_headers
from tests.support.outbox import committed_events

UNIT = "000.00.15.H10"
KEY = "000.00.15.H10-240415-0001"
RECEIVED = datetime(2024, 4, 15, 9, 15, tzinfo=VN_TZ)
DUE = datetime(2024, 4, 16, 9, 15, tzinfo=VN_TZ)
SETTINGS = {
    "issuing_body": "Ủy ban nhân dân xã Cẩm Quang",
    "superior_body": "UBND huyện Cẩm Xuyên",
    "place_name": "Cẩm Quang",
    "signer_authority": "KT. Chủ tịch",
    "signer_title": "Phó Chủ tịch",
    "signer_name": "Trần Văn Đức",
}


def lateness(
    key: str = KEY, *, due: datetime = DUE, received: datetime = RECEIVED, channel: int = 1, **extra: Any
) -> dict[str, Any]:
    """The data of a ``dossier.due_soon``/``overdue``/``overdue_after_apology`` as dossiers publishes it."""
    return {
        "ma_ho_so": key,
        "unit": UNIT,
        "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh", "field_code": "HT", "field_name": "Hộ tịch"},
        "channel": channel,
        "applicant": {
            "name": "Nguyễn Thị Hồng",
            "address": "Thôn Trung Hòa, xã Cẩm Quang",
            "phone": "0912345678",
            "email": "hong@example.vn",
        },
        "received_at": received.isoformat(),
        "due_at": due.isoformat(),
        "rule_set": "nd61_2018" if received < datetime(2025, 7, 1, tzinfo=VN_TZ) else "nd118_2025",
        **extra,
    }


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@dataclass
class Notifications:
    runtime: Runtime
    client: httpx.AsyncClient
    clock: ManualClock

    async def deliver(self, kind: str, data: dict[str, Any], *, event_id: str | None = None) -> CloudEvent:
        """Publish a dossier event on the bus (the consumer has handled it when this returns)."""
        event = CloudEvent(
            source="/cchc/dossiers",
            type=f"vn.cchc.dossier.{kind}.v1",
            time=self.clock.now(),
            subject=data["ma_ho_so"],
            data=data,
        )
        if event_id is not None:
            event = event.model_copy(update={"id": event_id})
        await self.runtime.bus.publish(
            [Message(topic="cchc.dossiers", key=event.subject, value=event.to_json().encode())]
        )
        return event

    async def events(self, kind: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        return await committed_events(self.runtime["notifications"], kind, key)

    async def letters(self, key: str = KEY) -> list[dict[str, Any]]:
        response = await self.client.get("/notifications/v1/letters", params={"dossier": key})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def configure(self, unit: str = UNIT, **policy: Any) -> dict[str, Any]:
        response = await self.client.put(f"/notifications/v1/letter-settings/{unit}", json={**SETTINGS, **policy})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(f"/notifications/v1{path}", **kwargs)

    async def dead_letters(self) -> list[Any]:
        table = self.runtime["notifications"].definition.tables.dead_letters
        async with self.runtime["notifications"].db.session() as session:
            return list((await session.execute(select(table))).all())


@pytest.fixture
async def start_notifications(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    started: list[tuple[Runtime, httpx.AsyncClient]] = []

    async def start(
        now: datetime = DUE + timedelta(minutes=1), services: tuple[str, ...] = ("notifications",), **overrides: Any
    ) -> Notifications:
        settings = await make_settings(*services, **{"outbox_retention_hours": 24 * 365 * 10, **overrides})
        clock = ManualClock(now)
        runtime = Runtime(definitions(list(services)), settings, clock=clock)
        await runtime.start(migrate=True)
        app = create_root_app(list(runtime.contexts.values()), _noop)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://cchc.test", headers=await admin_headers(runtime)
        )
        started.append((runtime, client))
        return Notifications(runtime, client, clock)

    yield start
    for runtime, client in started:
        await client.aclose()
        await runtime.stop()


@pytest.fixture
async def notifications(start_notifications: Callable[..., Any]) -> Notifications:
    return await start_notifications()
