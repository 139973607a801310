"""The kernel's units directory: an order-tolerant replica of the units registry, and its tree."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import MetaData, event

from shared.clock import SystemClock
from shared.db import Database
from shared.events import CloudEvent
from shared.kernel_tables import kernel_tables
from shared.units import UnitDirectory, UnitRecord
from shared.uow import UnitOfWork

metadata = MetaData()
kernel = kernel_tables(metadata)
directory = UnitDirectory(metadata)


@pytest.fixture
async def db(make_settings: Callable[..., Any]) -> AsyncIterator[Database]:
    settings = await make_settings("probe")
    database = Database(settings.database_url("probe"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


changes: list[tuple[str | None, str | None]] = []


async def remember(uow: UnitOfWork, new: UnitRecord | None, old: UnitRecord | None) -> None:
    changes.append((new.parent_code if new else None, old.parent_code if old else None))


async def deliver(db: Database, kind: str, **data: Any) -> None:
    event = CloudEvent(
        source="/cchc/plans", type=f"vn.cchc.{kind}.v1", time=SystemClock().now(), subject=data["code"], data=data
    )
    async with UnitOfWork(db.sessions(), kernel, source="/test", topic="t", clock=SystemClock()) as uow:
        await directory.handlers(on_change=remember)[event.type](uow, event)
        await uow.commit()


def unit(code: str, parent: str | None, version: int = 1, name: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "name": name or f"UBND {code}",
        "aliases": [],
        "level": "commune",
        "parent_code": parent,
        "version": version,
    }


async def test_the_tree_follows_upserts_and_an_older_version_never_wins(db: Database):
    changes.clear()
    for code, parent in (("P", None), ("D", "P"), ("C1", "D"), ("C2", "D"), ("OTHER", None)):
        await deliver(db, "unit.upserted", **unit(code, parent))
    async with db.session() as session:
        assert await directory.descendants(session, "P") == ["P", "D", "C1", "C2"]
        assert await directory.ancestors(session, "C2") == ["C2", "D", "P"]

    await deliver(db, "unit.upserted", **unit("C2", "OTHER", version=3))  # moved
    await deliver(db, "unit.upserted", **unit("C2", "D", version=2))  # late, older: ignored
    async with db.session() as session:
        assert await directory.descendants(session, "P") == ["P", "D", "C1"]
        assert await directory.descendants(session, "OTHER") == ["OTHER", "C2"]
        assert (await directory.get(session, "C2")).version == 3  # type: ignore[union-attr]
    assert changes[-1] == ("OTHER", "D")  # the move was announced once; the stale one was not


async def test_a_deleted_unit_leaves_every_reader_and_a_stale_delete_does_nothing(db: Database):
    await deliver(db, "unit.upserted", **unit("P", None))
    await deliver(db, "unit.upserted", **unit("C", "P", version=2))
    await deliver(db, "unit.deleted", code="C", version=2)  # not newer than the stored row: ignored
    async with db.session() as session:
        assert await directory.descendants(session, "P") == ["P", "C"]  # positive control
    await deliver(db, "unit.deleted", code="C", version=3)
    async with db.session() as session:
        assert await directory.get(session, "C") is None
        assert await directory.descendants(session, "P") == ["P"]


async def test_a_unit_deleted_and_another_registered_between_two_reads_change_the_tree(db: Database):
    # One unit of version 1 gone, another of version 1 come: as many units, the same sum of
    # versions. The cached tree kept the deleted unit and lacked the new one.
    await deliver(db, "unit.upserted", **unit("P", None))
    await deliver(db, "unit.upserted", **unit("OLD", "P"))
    async with db.session() as session:
        assert await directory.descendants(session, "P") == ["P", "OLD"]
    await deliver(db, "unit.deleted", code="OLD", version=2)
    await deliver(db, "unit.upserted", **unit("NEW", "P"))
    async with db.session() as session:
        snapshot = await directory.snapshot(session)
        assert sorted(snapshot.units) == ["NEW", "P"]
        assert await directory.descendants(session, "P") == ["P", "NEW"]


async def test_the_whole_replica_is_read_again_only_after_a_change(db: Database):
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    async def read() -> dict[str, str]:
        statements.clear()
        async with db.session() as session:
            snapshot = await directory.snapshot(session)
        return {code: u.name for code, u in snapshot.units.items()}

    def full_reads() -> int:
        return sum("sum(units.version)" not in s and "FROM units" in s for s in statements)

    await deliver(db, "unit.upserted", **unit("P", None))
    assert await read() == {"P": "UBND P"} and full_reads() == 1
    assert await read() == {"P": "UBND P"} and full_reads() == 0  # unchanged: the fingerprint alone
    await deliver(db, "unit.upserted", **unit("P", None, version=2, name="UBND tỉnh mới"))  # same count, new version
    assert await read() == {"P": "UBND tỉnh mới"} and full_reads() == 1
    await deliver(db, "unit.upserted", **unit("C", "P"))
    assert await read() == {"P": "UBND tỉnh mới", "C": "UBND C"} and full_reads() == 1


async def test_groups_are_replicated_with_their_resolved_members(db: Database):
    await deliver(db, "unit_group.upserted", code="G", name="UBND các xã", resolved_members=["C1", "C2"], version=1)
    await deliver(db, "unit_group.upserted", code="G", name="UBND các xã", resolved_members=["C1"], version=0)  # older
    async with db.session() as session:
        assert await directory.group_members(session, "G") == ["C1", "C2"]
    await deliver(db, "unit_group.deleted", code="G", version=2)
    async with db.session() as session:
        assert await directory.group_members(session, "G") == []
