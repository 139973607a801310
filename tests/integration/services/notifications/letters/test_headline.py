"""The headline flow, in embedded mode (dossiers and notifications in one process, in-process bus)
and over Kafka: a dossier pushed already past due → one letter, issued → its due date moved once;
the batch re-sent three times → still one letter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from shared.clock import VN_TZ
from tests.integration.services.dossiers.conftest import example
from tests.integration.services.notifications.letters.conftest import Notifications
from tests.integration.shared.test_kafka_bus import kafka_settings
from tests.plugins.kafka_mock import MockKafkaCluster

RECORD = example("dongbohosomc.json")["data"][0]  # received 15/04/2024 09:15, due 16/04/2024 09:15
KEY = RECORD["MaHoSo"]
UNIT = "000.00.12.H42"  # the receiving agency of its MaHoSo handles it
DUE = datetime(2024, 4, 16, 9, 15, tzinfo=VN_TZ)
NOW = datetime(2024, 4, 17, 10, 0, tzinfo=VN_TZ)  # already a day late when it arrives
NEW_DUE = datetime(2024, 4, 25, 10, 0, tzinfo=VN_TZ)  # 5 working days from now: 19, 22, 23, 24, 25 (Giỗ Tổ, 18/04, off)


@pytest.fixture
def kafka(kafka_bootstrap: str) -> Iterator[str]:
    """A broker of its own (no topic, offset or group of another test), stopped after the services."""
    with MockKafkaCluster() as cluster:
        yield cluster.bootstrap


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10) -> Any:
    for _ in range(int(timeout / 0.02)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.02)
    return await check()


async def push(n: Notifications) -> None:
    body = {"service": "DongBoHoSoMC", "isUpdating": False, "data": [RECORD]}
    response = await n.client.post("/dossiers/v1/sync/dvcqg", json=body)
    assert response.status_code == 200, response.text


async def dossier(n: Notifications) -> dict[str, Any]:
    response = await n.client.get(f"/dossiers/v1/dossiers/{KEY}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_dossier_pushed_past_due_gets_one_issued_letter_and_its_date_moves_once(start_notifications):
    await headline(await start_notifications(now=NOW, services=("dossiers", "notifications")))


@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_the_same_over_kafka(kafka, start_notifications, backend):
    await headline(
        await start_notifications(now=NOW, services=("dossiers", "notifications"), **kafka_settings(kafka)), timeout=60
    )


async def headline(n: Notifications, timeout: float = 10) -> None:
    await n.configure(unit=UNIT, auto_issue=True)
    await push(n)
    assert (await dossier(n))["unit"] == UNIT

    async def moved() -> dict[str, Any] | None:
        current = await dossier(n)
        return current if datetime.fromisoformat(current["due_at"]) != DUE else None

    moved_dossier = await eventually(moved, timeout)
    assert moved_dossier is not None, "the dossier's due date never moved"
    assert datetime.fromisoformat(moved_dossier["due_at"]) == NEW_DUE

    [letter] = await n.letters(KEY)
    assert letter["status"] == "issued" and letter["number"] == "1/PXL" and letter["regime"] == "tt01_2018"
    assert datetime.fromisoformat(letter["new_due_at"]) == NEW_DUE

    for _ in range(3):  # the partner resends the batch
        await push(n)
    await asyncio.sleep(0.3 if timeout < 20 else 3)  # time enough for the resends to reach notifications
    assert len(await n.letters(KEY)) == 1
    assert len(await n.events("letter.issued")) == 1
    final = await dossier(n)
    assert datetime.fromisoformat(final["due_at"]) == NEW_DUE
    assert [h["reason"] for h in final["due_history"]].count("apology") == 1
    assert final["apology"]["letter_id"] == letter["id"] and final["apology"]["number"] == "1/PXL"
    assert await n.dead_letters() == []
