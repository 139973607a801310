"""``upsert_rows`` (one JSON parameter on PostgreSQL, an executemany on SQLite): rows inserted,
merged on conflict, defaults for the columns a row lacks, and ``RETURNING``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, select

from shared.db import Database, Upsert, UTCDateTime, _combined_statement, _upsert_statement, upsert_all, upsert_rows

metadata = MetaData()
tallies = Table(
    "tallies",
    metadata,
    Column("unit", String(20), primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("received", Integer, nullable=False),
    Column("late", Integer, nullable=False),
    Column("open", Boolean),
    Column("seen_at", UTCDateTime),
)
seen = Table("seen", metadata, Column("unit", String(20), primary_key=True))
HANOI = timezone(timedelta(hours=7))
AT = datetime(2025, 7, 1, 8, 30, tzinfo=HANOI)


def adding(i):
    return i.on_conflict_do_update(
        index_elements=["unit", "month"],
        set_={"received": tallies.c.received + i.excluded.received, "late": tallies.c.late + i.excluded.late},
    )


async def table(db: Database) -> set[tuple]:
    async with db.session() as session:
        return {tuple(row) for row in await session.execute(select(tallies))}


async def test_rows_are_inserted_then_merged_and_missing_columns_take_the_defaults(database):
    defaults = {"received": 0, "late": 0}
    async with database.session() as session, session.begin():
        first = [
            {"unit": "Xã Đông", "month": 1, "received": 2, "open": True, "seen_at": AT},
            {"unit": "Xã Tây", "month": 1, "late": 1, "open": None, "seen_at": None},
        ]
        await upsert_rows(session, tallies, first, adding, defaults=defaults)
    async with database.session() as session, session.begin():
        await upsert_rows(session, tallies, [{"unit": "Xã Tây", "month": 1, "received": 5}], adding, defaults=defaults)

    assert await table(database) == {
        ("Xã Tây", 1, 5, 1, None, None),
        ("Xã Đông", 1, 2, 0, True, AT.astimezone(UTC)),
    }


async def test_returning_names_only_the_rows_inserted(database):
    column = tallies.c.unit
    rows = [{"unit": u, "month": 1, "received": 1, "late": 0} for u in ("A", "B")]

    def claim(i):
        return i.on_conflict_do_nothing().returning(column)

    async with database.session() as session, session.begin():
        first = set((await upsert_rows(session, tallies, rows[:1], claim)).scalars())
    async with database.session() as session, session.begin():
        second = set((await upsert_rows(session, tallies, rows, claim)).scalars())

    assert (first, second) == ({"A"}, {"B"})


async def test_a_reused_statement_takes_each_calls_rows_defaults_and_columns(database):
    """The statement is built once per table, columns, default names and conflict clause: the
    next call with new default values, or other columns, still writes what it is given."""
    async with database.session() as session, session.begin():
        await upsert_rows(session, tallies, [{"unit": "A", "month": 1}], adding, defaults={"received": 1, "late": 0})
        await upsert_rows(session, tallies, [{"unit": "A", "month": 1}], adding, defaults={"received": 2, "late": 5})
        await upsert_rows(session, tallies, [{"unit": "B", "month": 2, "received": 7}], adding, defaults={"late": 3})
        await upsert_rows(
            session, tallies, [{"unit": "C", "month": 2, "received": 1, "late": 1, "open": False}], adding
        )

    assert await table(database) == {
        ("A", 1, 3, 5, None, None),
        ("B", 2, 7, 3, None, None),
        ("C", 2, 1, 1, False, None),
    }


def ignoring(i):
    return i.on_conflict_do_nothing()


async def test_upsert_all_writes_every_table_in_one_go_and_skips_empty_parts(database):
    defaults = {"received": 0, "late": 0}
    for _ in range(2):  # the second time, every row is a conflict: added to, or left alone
        async with database.session() as session, session.begin():
            await upsert_all(
                session,
                [
                    Upsert(
                        tallies, [{"unit": "A", "month": 1, "received": 2}, {"unit": "B", "month": 1}], adding, defaults
                    ),
                    Upsert(seen, [], ignoring),
                    Upsert(seen, [{"unit": "A"}, {"unit": "B"}], ignoring),
                ],
            )

    assert await table(database) == {("A", 1, 4, 0, None, None), ("B", 1, 0, 0, None, None)}
    async with database.session() as session:
        assert set((await session.execute(select(seen.c.unit))).scalars()) == {"A", "B"}


async def test_a_first_row_in_another_order_or_with_other_counters_reuses_the_statement(database):
    """Statements are cached per table and set of columns: the first row's key order, and which of
    the defaulted columns it holds, make no new one (each would be built, compiled and prepared)."""
    defaults = {"received": 0, "late": 0}
    batches = [
        [{"unit": "A", "month": 1, "received": 1}],
        [{"late": 2, "month": 1, "unit": "A"}],
        [{"month": 2, "unit": "B", "late": 1, "received": 3}],
    ]
    _upsert_statement.cache_clear()
    _combined_statement.cache_clear()
    for rows in batches:
        async with database.session() as session, session.begin():
            await upsert_rows(session, tallies, rows, adding, defaults=defaults)
            await upsert_all(
                session, [Upsert(tallies, rows, adding, defaults), Upsert(seen, [{"unit": rows[0]["unit"]}], ignoring)]
            )

    assert _upsert_statement.cache_info().currsize == (3 if database.is_postgres else 2)  # tallies, and seen
    assert _combined_statement.cache_info().currsize == (1 if database.is_postgres else 0)
    assert await table(database) == {("A", 1, 2, 4, None, None), ("B", 2, 6, 2, None, None)}


async def test_a_row_naming_no_column_of_the_table_is_refused(database):
    async with database.session() as session, session.begin():
        await upsert_rows(session, tallies, [{"unit": "A", "month": 1, "received": 1}], adding, defaults={"late": 0})
    with pytest.raises(ValueError, match="tallies has no column recieved"):
        async with database.session() as session, session.begin():
            await upsert_rows(
                session, tallies, [{"unit": "B", "month": 1, "recieved": 1}], adding, defaults={"late": 0}
            )

    assert await table(database) == {("A", 1, 1, 0, None, None)}  # the first write alone
