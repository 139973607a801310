"""Stand-in for ``shared.units.UnitDirectory`` (being built on main, same interface and tables):
the replica of plans' unit tree, fed by ``unit.upserted``. Replace the import once it lands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from weakref import WeakKeyDictionary

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Date, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumer import Handler
from shared.db import UTCDateTime, upsert
from shared.events import CloudEvent
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class UnitRecord:
    code: str
    name: str
    aliases: list[str]
    level: str
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    version: int


class _UnitIn(BaseModel):
    code: str
    name: str
    aliases: list[str] = []
    level: str
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    version: int


OnChange = Callable[[UnitOfWork, UnitRecord, UnitRecord | None], Awaitable[None]]
_TREES: WeakKeyDictionary[Engine, tuple[tuple[int, int], dict[str, str | None]]] = WeakKeyDictionary()


class UnitDirectory:
    def __init__(self, metadata: MetaData) -> None:
        self.units = Table(
            "units",
            metadata,
            Column("code", String(64), primary_key=True),
            Column("name", Text, nullable=False),
            Column("aliases", JSON, nullable=False),
            Column("level", String(20), nullable=False),
            Column("parent_code", String(64), index=True),
            Column("valid_from", Date),
            Column("valid_to", Date),
            Column("version", Integer, nullable=False),
            Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        )

    def handlers(self, on_change: OnChange | None = None) -> dict[str, Handler]:
        async def on_unit_upserted(uow: UnitOfWork, event: CloudEvent) -> None:
            unit = event.data_as(_UnitIn)
            old = await self.get(uow.session, unit.code)
            if old is not None and old.version >= unit.version:
                return
            values = {**unit.model_dump(), "updated_at": uow.clock.now()}
            statement = upsert(uow.session, self.units).values(**values)
            statement = statement.on_conflict_do_update(index_elements=["code"], set_={k: statement.excluded[k] for k in values if k != "code"})
            await uow.session.execute(statement)
            if on_change is not None:
                await on_change(uow, UnitRecord(**unit.model_dump()), old)

        return {"vn.cchc.unit.upserted.v1": on_unit_upserted}

    async def get(self, session: AsyncSession, code: str) -> UnitRecord | None:
        row = (await session.execute(select(self.units).where(self.units.c.code == code))).mappings().first()
        if row is None:
            return None
        return UnitRecord(**{k: v for k, v in row.items() if k != "updated_at"})

    async def parents(self, session: AsyncSession) -> dict[str, str | None]:
        """code → parent code, read again only when the replica changed (count and version sum)."""
        U = self.units.c
        count, versions = (await session.execute(select(func.count(), func.coalesce(func.sum(U.version), 0)).select_from(self.units))).one()
        fingerprint = (int(count), int(versions))
        engine = session.get_bind()
        cached = _TREES.get(engine)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        tree = {code: parent for code, parent in (await session.execute(select(U.code, U.parent_code))).all()}
        _TREES[engine] = (fingerprint, tree)
        return tree

    async def ancestors(self, session: AsyncSession, code: str) -> list[str]:
        tree, lineage = await self.parents(session), [code]
        while (parent := tree.get(lineage[-1])) is not None and parent not in lineage:
            lineage.append(parent)
        return lineage

    async def descendants(self, session: AsyncSession, code: str) -> list[str]:
        tree = await self.parents(session)
        children: dict[str, list[str]] = {}
        for child, parent in tree.items():
            if parent is not None:
                children.setdefault(parent, []).append(child)
        found, queue = [code], [code]
        while queue:
            for child in children.get(queue.pop(), []):
                if child not in found:
                    found.append(child)
                    queue.append(child)
        return found
