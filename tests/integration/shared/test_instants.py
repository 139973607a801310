"""Instants round-trip through both databases as the same aware instant; naive ones are refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from shared.db import Database, UTCDateTime

metadata = MetaData()
moments = Table("moments", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))


async def test_an_instant_comes_back_as_the_same_instant_and_a_naive_one_is_refused(make_settings: Callable[..., Any]):
    db = Database((await make_settings("probe")).database_url("probe"))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        vn = datetime(2024, 4, 16, 7, tzinfo=timezone(timedelta(hours=7)))
        async with db.engine.begin() as connection:
            await connection.execute(insert(moments).values(id=1, at=vn))
            back = (await connection.execute(select(moments.c.at))).scalar_one()
        assert back == vn and back.utcoffset() is not None  # aware, whatever the backend keeps
        assert back.astimezone(UTC).hour == 0
        with pytest.raises(StatementError, match="naive"):
            async with db.engine.begin() as connection:
                await connection.execute(insert(moments).values(id=2, at=datetime(2024, 4, 16, 7)))
    finally:
        await db.dispose()
