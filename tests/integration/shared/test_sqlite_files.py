"""Embedded databases hold citizens' personal data: their files are their owner's alone."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from shared.db import Database


def modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}


async def test_a_new_sqlite_database_its_wal_and_its_directory_are_private(tmp_path: Path):
    path = tmp_path / "data" / "dossiers.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        files = modes(path.parent)  # while connections are open: the -wal and -shm files exist
    finally:
        await database.dispose()
    assert files == {"dossiers.db": 0o600, "dossiers.db-wal": 0o600, "dossiers.db-shm": 0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_an_existing_database_keeps_the_permissions_its_owner_gave_it(tmp_path: Path):
    path = tmp_path / "scoring.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        await database.dispose()
    assert modes(tmp_path)["scoring.db"] == 0o640
