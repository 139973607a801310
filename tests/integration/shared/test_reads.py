"""``Database.read``: one statement outside any transaction, values as a session gives them, never a write."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Float, Integer, MetaData, String, Table, bindparam, func, insert, select, text

from shared.db import Database, UTCDateTime

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(10)),
    Column("at", UTCDateTime),
    Column("data", JSON),
)
BY_ID = select(things).where(things.c.id == bindparam("id"))
SINCE = select(things.c.id, things.c.at).where(things.c.at >= bindparam("since")).order_by(things.c.id).limit(2)
VN = timezone(timedelta(hours=7))


@pytest.fixture
async def db(make_settings: Callable[..., Any]):
    database = Database((await make_settings("probe")).database_url("probe"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(
            insert(things),
            [
                {"id": i, "code": f"c{i}", "at": datetime(2024, 4, i, 7, tzinfo=VN), "data": {"n": i, "l": [i]}}
                for i in range(1, 6)
            ],
        )
    yield database
    await database.dispose()


async def test_a_read_gives_what_a_session_gives(db: Database):
    async with db.session() as session:
        expected = [dict(row) for row in (await session.execute(BY_ID, {"id": 3})).mappings()]
    assert await db.read(BY_ID, {"id": 3}) == expected
    row = expected[0]
    assert row["data"] == {"n": 3, "l": [3]} and row["at"] == datetime(2024, 4, 3, tzinfo=UTC)
    assert await db.read(BY_ID, {"id": 99}) == []
    # an instant bound through the column's type, and a LIMIT the statement carries itself
    since = await db.read(SINCE, {"since": datetime(2024, 4, 2, 7, tzinfo=VN)})
    assert [r["id"] for r in since] == [2, 3]
    # an IN whose list expands at execution takes the engine's path, with the same answer
    listed = select(things.c.id).where(things.c.code.in_(["c1", "c4"])).order_by(things.c.id)
    assert await db.read(listed) == [{"id": 1}, {"id": 4}]
    with pytest.raises(ValueError, match="'id'"):
        await db.read(BY_ID)


async def test_a_read_sees_only_what_is_committed_and_cannot_write(db: Database):
    async with db.session() as session, session.begin():
        await session.execute(text("UPDATE things SET code = 'changed' WHERE id = 1"))
        assert (await db.read(BY_ID, {"id": 1}))[0]["code"] == "c1"  # not waiting for the writer either
    assert (await db.read(BY_ID, {"id": 1}))[0]["code"] == "changed"
    async with db.read_sessions() as reader:
        with pytest.raises(Exception, match="(?i)read-only|readonly"):
            await reader.execute(text("UPDATE things SET code = 'no' WHERE id = 2"))
    assert (await db.read(BY_ID, {"id": 2}))[0]["code"] == "c2"


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_read_survives_its_connection_closed_by_the_server(db: Database):
    assert (await db.read(BY_ID, {"id": 1}))[0]["id"] == 1
    async with db.engine.begin() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert killed >= 1
    assert (await db.read(BY_ID, {"id": 4}))[0]["id"] == 4


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_write_survives_its_pooled_connection_closed_by_the_server(db: Database):
    async with db.session() as session, session.begin():
        await session.execute(text("UPDATE things SET code = 'before' WHERE id = 3"))
    async with db.read_sessions() as other:  # not the writer's pool: its connections are the ones killed
        killed = await other.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert killed >= 1
    async with db.session() as session, session.begin():
        await session.execute(text("UPDATE things SET code = 'after' WHERE id = 3"))
    assert (await db.read(BY_ID, {"id": 3}))[0]["code"] == "after"


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_burst_of_reads_shares_the_few_connections(db: Database):
    """Fifty reads at once on a fresh process: each answers, on at most ``read_connections``
    connections (they once each opened one, past the pool's limit, and waited 30 s for it)."""
    answers = await asyncio.wait_for(asyncio.gather(*(db.read(BY_ID, {"id": 1 + i % 5}) for i in range(50))), 20)
    assert [a[0]["id"] for a in answers] == [1 + i % 5 for i in range(50)]
    async with db.engine.connect() as connection:
        readers = await connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        )
    assert 1 <= readers <= 4


SLOW = select(things.c.id, func.pg_sleep(bindparam("seconds", type_=Float))).where(things.c.id == 1)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_reads_waiting_for_a_connection_get_one_in_arrival_order(make_settings: Callable[..., Any]):
    """A freed connection goes to the read waiting longest, never to one arriving meanwhile: with
    ``asyncio.Queue`` a new read took it, and the overtaken read queued again at the back (under
    fifty connections of load, the p99 of GET one dossier)."""
    database = Database((await make_settings("probe")).database_url("probe"), read_connections=1)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(things), [{"id": 1, "code": "c1"}])
    finished: list[str] = []

    async def read(name: str, seconds: float = 0) -> None:
        await database.read(SLOW, {"seconds": seconds})
        finished.append(name)

    async def first_then_again() -> None:
        await read("first", 0.3)  # holds the only connection while the others queue
        await read("again")  # asked the moment the first read released it, before the queue ran

    async def queued(name: str) -> None:
        await asyncio.sleep(0.1)
        await read(name)

    try:
        await asyncio.wait_for(asyncio.gather(first_then_again(), queued("second"), queued("third")), 20)
    finally:
        await database.dispose()
    assert finished == ["first", "second", "third", "again"]


def _reader_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("sqlite-read")}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_sqlite_read_runs_on_the_loop_and_waits_on_threads_only_while_the_file_is_busy(db: Database):
    """Embedded point reads run on the event loop's thread (no hop to a thread and back). A connection
    holding the file exclusively makes that attempt busy: the read then waits for the file on a
    reader thread, as a session would, and answers once the file is free."""
    url, others = db.engine.url, _reader_threads()
    assert (await db.read(BY_ID, {"id": 1}))[0]["code"] == "c1"
    assert _reader_threads() == others  # answered on the loop's thread
    assert (await db.read(BY_ID, {"id": 2}, once=True))[0]["code"] == "c2"
    assert len(_reader_threads() - others) == 1  # a statement made for one call (a list) reads on a thread
    await db.dispose()  # nothing of this process holds the file now

    holder = sqlite3.connect(url.database or "", isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE things SET code = 'held' WHERE id = 1")
    holder.execute("COMMIT")  # the exclusive lock stays until the connection closes
    fresh = Database(url.render_as_string(hide_password=False))
    try:
        reading = asyncio.create_task(fresh.read(BY_ID, {"id": 1}))
        await asyncio.sleep(0.3)
        assert not reading.done()  # waiting for the file, not failing
        holder.close()
        assert (await asyncio.wait_for(reading, 10))[0]["code"] == "held"
        assert len(_reader_threads() - others) == 1  # the wait happened on a reader thread
    finally:
        holder.close()
        await fresh.dispose()
