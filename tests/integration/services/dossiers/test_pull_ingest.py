"""The pull worker follows a live simulated province into the database, and resumes after a restart."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select

from services.dossiers.models import Dossier, PullCursor
from services.dossiers.sync.pulling import DatabaseSink
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ, ManualClock
from simulator.province import Province
from simulator.server import create_app
from simulator.workload import ProvincialWorkload
from tests.support.live_server import live_server

START = datetime(2024, 4, 15, 6, tzinfo=VN_TZ)


async def stored(d) -> tuple[int, str | None]:
    async with d.runtime["dossiers"].db.session() as session:
        count = (await session.execute(select(func.count()).select_from(Dossier))).scalar_one()
        cursor = await session.get(PullCursor, "dvcqg")
        return count, None if cursor is None else cursor.cursor


async def wait_for_count(d, expected: int) -> int:
    for _ in range(300):
        count, _ = await stored(d)
        if count >= expected:
            return count
        await asyncio.sleep(0.02)
    return (await stored(d))[0]


async def test_the_pull_worker_ingests_the_feed_and_a_new_process_resumes_from_its_cursor(start_dossiers):
    province = Province(ProvincialWorkload(5, WorkingCalendar(), rate=40), START)
    province.admit(120)
    clock = ManualClock(province.now)
    async with live_server(create_app(province, clock, token="s3cret")) as base:
        overrides = {
            "dossiers_pull_url": f"{base}/dvcqg/hoso",
            "dossiers_pull_token": "s3cret",
            "dossiers_pull_page_size": 25,
        }
        first = await start_dossiers(now=province.now, dossiers_pull_interval=0.05, **overrides)
        assert await wait_for_count(first, province.arrived) == province.arrived
        _, cursor = await stored(first)
        assert cursor
        await first.runtime.stop()

        province.admit(200)
        clock.set(province.now)
        # Same database, new process: the saved cursor means only the new dossiers are read.
        second = await start_dossiers(now=province.now, dossiers_pull_interval=0.05, **overrides)
        assert await wait_for_count(second, province.arrived) == province.arrived
        assert (await stored(second))[1] != cursor


async def test_two_replicas_applying_the_same_page_store_it_once(dossiers):
    """Replicas poll the same feed: the page goes in once, with its cursor; the slower replica
    finds the cursor moved, stores nothing and follows it."""
    records = list(ProvincialWorkload(3, WorkingCalendar()).dossiers(30, START))
    first, second = DatabaseSink(dossiers.runtime["dossiers"]), DatabaseSink(dossiers.runtime["dossiers"])
    applied = await asyncio.gather(
        first.apply_page("dvcqg", records, None, "c1"), second.apply_page("dvcqg", records, None, "c1")
    )
    assert sorted(applied) == [False, True]
    assert await stored(dossiers) == (30, "c1")
    assert len(await dossiers.events("dossier.received")) == 30

    assert await second.apply_page("dvcqg", records[:5], None, "c1") is False  # read before the move: refused
    assert await second.apply_page("dvcqg", [], "c1", "c2") is True
    assert await first.apply_page("dvcqg", [], "c1", "c2") is False
    assert await stored(dossiers) == (30, "c2")
