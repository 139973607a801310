"""``cchc dlt list|replay`` in embedded mode: dead letters kept by the consuming service."""

from __future__ import annotations

import asyncio
import json

from services import cli
from services.catalog import definitions, settings_class
from services.notifications.models import directory
from services.plans import service as plans
from services.plans.schemas import UnitIn
from shared.runtime import Runtime
from shared.settings import Settings
from shared.units import UnitDirectory, UnitRecord


async def register_unit(settings: Settings) -> None:
    runtime = Runtime(definitions(["plans", "notifications"]), settings)
    await runtime.start(migrate=True, relays=False)
    try:
        async with runtime["plans"].uow() as uow:
            await plans.upsert_unit(uow, "H42", UnitIn(name="UBND tỉnh Hà Tĩnh", level="province"))
            await uow.commit()
        await runtime["plans"].relay.drain()
    finally:
        await runtime.stop()


async def recipient(settings: Settings) -> UnitRecord | None:
    runtime = Runtime(definitions(["notifications"]), settings)
    try:
        async with runtime["notifications"].db.session() as session:
            return await directory.get(session, "H42")
    finally:
        await runtime.stop()


def dlt(capsys, *args: str) -> list[str]:
    capsys.readouterr()
    assert cli.main(["dlt", *args]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if line]


def test_dead_letters_are_listed_and_replayed_once_the_fault_is_fixed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CCHC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CCHC_CONSUMER_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("CCHC_CONSUMER_RETRY_BACKOFF", "0")
    monkeypatch.setenv("CCHC_LOG_JSON", "false")
    settings = settings_class()()  # as the cchc command reads them

    async def broken(*_: object) -> None:
        raise RuntimeError("recipient directory is broken")

    with monkeypatch.context() as patch:
        patch.setattr(UnitDirectory, "get", broken)
        asyncio.run(register_unit(settings))

    [line] = dlt(capsys, "list")
    letter = json.loads(line)
    assert letter["consumer"] == "cchc.notifications" and letter["topic"] == "cchc.plans"
    assert letter["key"] == "H42" and letter["attempts"] == 2
    assert "recipient directory is broken" in letter["error"]
    assert asyncio.run(recipient(settings)) is None

    assert dlt(capsys, "replay") == []
    assert dlt(capsys, "list") == []
    found = asyncio.run(recipient(settings))
    assert found is not None and found.name == "UBND tỉnh Hà Tĩnh"
