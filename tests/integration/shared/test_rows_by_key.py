"""``rows_by_key``: the rows of a batch of keys, and on PostgreSQL a plan that stays on the key's
index however small the table was when the connection first planned the lookup."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, any_, cast, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import rows_by_key

metadata = MetaData()
files = Table(
    "files",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("unit", String(20)),
    Column("note", String(300)),
)


def code(n: int) -> str:
    return f"000.00.00.H00-24-{n:07d}"


async def add(session: AsyncSession, first: int, last: int) -> None:
    rows = [{"code": code(n), "unit": "Xã Đông" if n % 2 else "Xã Tây", "note": "x" * 200} for n in range(first, last)]
    await session.execute(insert(files), rows)


async def test_the_rows_of_the_keys_asked_for_once_each_and_those_meeting_the_conditions(database):
    async with database.session() as session, session.begin():
        await add(session, 0, 10)
    async with database.session() as session, session.begin():
        asked = [code(3), code(1), code(3), "000.00.00.H00-24-absent"]
        found = (await rows_by_key(session, files, files.c.code, asked)).mappings().all()
        assert sorted(row["code"] for row in found) == [code(1), code(3)]
        assert list(found[0].keys()) == ["code", "unit", "note"]  # the table's names, as a select of the table gives
        east = await rows_by_key(session, files, files.c.code, asked, files.c.unit == "Xã Đông")
        assert [row["code"] for row in east.mappings()] == [code(1), code(3)]
        west = await rows_by_key(session, files, files.c.code, asked, files.c.unit == "Xã Tây")
        assert west.all() == []


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_rows_are_locked_until_the_transaction_ends(database):
    async with database.session() as session, session.begin():
        await add(session, 0, 4)
    async with database.session() as holder, holder.begin():
        await rows_by_key(holder, files, files.c.code, [code(2)], lock=True)
        async with database.session() as other, other.begin():
            await other.execute(text("SET LOCAL lock_timeout = '200ms'"))
            free = await other.execute(select(files.c.code).where(files.c.code == code(1)).with_for_update())
            assert free.scalars().all() == [code(1)]  # the control: an unlocked row is taken at once
            with pytest.raises(Exception, match="lock timeout"):
                await other.execute(select(files.c.code).where(files.c.code == code(2)).with_for_update())


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_on_postgres_a_lookup_planned_on_a_small_table_still_uses_the_index_once_it_has_grown(database):
    """``code = ANY($1)`` (the control) keeps the sequential scan its connection planned while the
    table had 300 rows; ``rows_by_key`` goes by the index at 20,000 rows as at 300."""
    keys = [code(n) for n in range(0, 500, 2)]
    control = select(files).where(files.c.code == any_(cast(keys, ARRAY(String(64)))))
    async with database.engine.connect() as connection:  # one connection: its prepared statements and their plans
        session = AsyncSession(bind=connection)
        async with session.begin():
            await add(session, 0, 300)
        for _ in range(8):  # PostgreSQL settles on a generic plan after five executions
            async with session.begin():
                await rows_by_key(session, files, files.c.code, keys)
                await session.execute(control)
        async with session.begin():
            await add(session, 300, 20_000)

        async def scans() -> tuple[int, int]:
            found = await session.execute(
                text("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'files'")
            )
            seq, index = found.one()
            return seq, index

        async with session.begin():
            before = await scans()
            assert len((await rows_by_key(session, files, files.c.code, keys)).all()) == 250
            after = await scans()
            assert after[0] == before[0]
            assert after[1] > before[1]
            assert len((await session.execute(control)).all()) == 250
            assert (await scans())[0] == after[0] + 1  # the hazard the lookup avoids
