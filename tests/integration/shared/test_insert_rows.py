"""``insert_rows`` (a binary COPY on PostgreSQL) stores what an ``INSERT`` of the same rows stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from shared.db import Database, UTCDateTime, insert_rows

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40)),
    Column("at", UTCDateTime),
    Column("items", JSON),
    Column("note", JSON),
)
HANOI = timezone(timedelta(hours=7))


def rows(first_id: int) -> list[dict]:
    return [
        {
            "id": first_id,
            "name": "Hồ sơ",
            "at": datetime(2025, 7, 1, 8, 30, tzinfo=HANOI),
            "items": [{"Gia": 1.5, "Tên": "lệ phí"}],
            "note": None,
        },
        {"id": first_id + 1, "name": None, "at": None, "items": [], "note": {"a": None}},
    ]


async def read(db: Database, ids: list[int]) -> list[tuple]:
    async with db.session() as session:
        result = await session.execute(
            select(things.c.name, things.c.at, things.c["items"], things.c.note)
            .where(things.c.id.in_(ids))
            .order_by(things.c.id)
        )
        return [tuple(row) for row in result]


async def test_copied_rows_read_back_as_inserted_ones(database):
    async with database.session() as session, session.begin():
        await insert_rows(session, things, rows(1))
        await session.execute(insert(things), rows(10))

    copied, inserted = await read(database, [1, 2]), await read(database, [10, 11])
    assert copied == inserted
    assert copied[0][1] == datetime(2025, 7, 1, 1, 30, tzinfo=UTC)
    assert copied[0][2] == [{"Gia": 1.5, "Tên": "lệ phí"}]
    async with database.session() as session:  # a JSON None is JSON null on both paths, not SQL NULL
        nulls = await session.execute(select(things.c.id).where(things.c.note.is_(None)))
        assert nulls.scalars().all() == []


async def test_rows_whose_keys_are_not_in_the_tables_order_are_stored_by_name(database):
    shuffled = [dict(reversed(list(row.items()))) for row in rows(1)]
    async with database.session() as session, session.begin():
        await insert_rows(session, things, shuffled)
        await insert_rows(session, things, rows(10), columns=["note", "id", "items", "at", "name"])
        await session.execute(insert(things), rows(20))
    assert await read(database, [1, 2]) == await read(database, [10, 11]) == await read(database, [20, 21])


async def test_a_naive_instant_or_a_taken_key_is_refused(database):
    async with database.session() as session, session.begin():
        await insert_rows(session, things, rows(1))
    naive = [{**rows(20)[0], "at": datetime(2025, 7, 1, 8, 30)}]
    with pytest.raises((ValueError, StatementError), match="naive"):
        async with database.session() as session, session.begin():
            await insert_rows(session, things, naive)
    with pytest.raises(IntegrityError):
        async with database.session() as session, session.begin():
            await insert_rows(session, things, rows(2))
    assert len(await read(database, [1, 2, 3, 20])) == 2
