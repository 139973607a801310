"""The units directory: every service's replica of the units registry that ``plans`` owns.

``plans`` publishes ``unit.upserted`` (a unit registered or changed), ``unit.deleted`` (an
unreferenced unit removed) and ``unit_group.upserted`` / ``unit_group.deleted``. A service that
needs the unit tree declares a :class:`UnitDirectory` on its metadata, merges
:meth:`UnitDirectory.handlers` into its subscription to ``cchc.plans`` and asks the directory for
the tree. Replicas are order-tolerant: each row keeps the version it was written from and an older
version never overwrites a newer one.

The tree is read whole only when it changed: each use asks for a cheap fingerprint and reuses the
snapshot built for that fingerprint on that database. The fingerprint is the number of units, the
sum of their versions (every upsert raises it) and the latest ``updated_at`` (every upsert writes
the clock's now). The count and the sum alone are blind to a deletion followed by the
registration of another unit of the same version: the cached tree kept the deleted unit (matched
to dossiers, counted in scopes) and lacked the new one. The latest write instant tells them apart
as long as the clock moved on between the last change and the registration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Date, Integer, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumer import Handler
from shared.db import UTCDateTime, upsert
from shared.events import CloudEvent
from shared.uow import UnitOfWork

UNIT_UPSERTED = "vn.cchc.unit.upserted.v1"
UNIT_DELETED = "vn.cchc.unit.deleted.v1"
GROUP_UPSERTED = "vn.cchc.unit_group.upserted.v1"
GROUP_DELETED = "vn.cchc.unit_group.deleted.v1"


class UnitUpsertedIn(BaseModel):
    """What a replica reads of ``unit.upserted`` (other fields are ignored)."""

    code: str
    name: str
    aliases: list[str] = []
    level: str
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    version: int


class UnitGroupUpsertedIn(BaseModel):
    """What a replica reads of ``unit_group.upserted``: the group and the units it stands for."""

    code: str
    name: str
    resolved_members: list[str] = []
    version: int


class Removed(BaseModel):
    """What a replica reads of ``unit.deleted`` and ``unit_group.deleted``."""

    code: str
    version: int


@dataclass(frozen=True)
class UnitRecord:
    code: str
    name: str
    aliases: tuple[str, ...]
    level: str
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    version: int
    updated_at: datetime | None = None


OnChange = Callable[[UnitOfWork, UnitRecord | None, UnitRecord | None], Awaitable[None]]
"""Awaited after the replica applied a change: ``(uow, new, old)``; ``new`` is None for a deletion."""


@dataclass(frozen=True, eq=False)
class UnitSnapshot:
    """The whole replica at one moment: units by code and the tree they form."""

    units: Mapping[str, UnitRecord]
    _children: dict[str | None, list[str]] = field(init=False, repr=False, default_factory=dict)
    _subtrees: dict[str, frozenset[str]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        for unit in self.units.values():
            self._children.setdefault(unit.parent_code, []).append(unit.code)

    @cached_property
    def parents(self) -> dict[str, str | None]:
        return {code: unit.parent_code for code, unit in self.units.items()}

    def lineage(self, code: str) -> Iterator[str]:
        """``code``, its parent, its grandparent... up to the root (a cycle in the replica ends it)."""
        seen: set[str] = set()
        current: str | None = code
        while current is not None and current not in seen:
            yield current
            seen.add(current)
            current = self.units[current].parent_code if current in self.units else None

    def subtree(self, code: str) -> frozenset[str]:
        """:meth:`descendants` as a set, computed once per snapshot (every request of a unit-scoped
        principal asks for its unit's)."""
        found = self._subtrees.get(code)
        if found is None:
            found = self._subtrees[code] = frozenset(self.descendants(code))
        return found

    def descendants(self, code: str) -> list[str]:
        """``code`` first, then every unit below it (breadth first; a cycle ends it)."""
        found, frontier, seen = [code], [code], {code}
        while frontier:
            frontier = [c for p in frontier for c in self._children.get(p, ()) if c not in seen]
            seen.update(frontier)
            found += frontier
        return found


Fingerprint = tuple[int, int, datetime | None]  # units, sum of their versions, latest updated_at
_committed = 0  # changes to a unit table this process has committed (see :func:`units_changed`)


def units_changed() -> None:
    """Say that this process committed a change to a unit table (a replica or the registry): a
    unit tree cached for requests (:func:`shared.scope.request_scope`) is read again at once."""
    global _committed
    _committed += 1


def committed_changes() -> int:
    """How many times :func:`units_changed` was called in this process."""
    return _committed


_SNAPSHOTS: WeakKeyDictionary[Engine | Connection, dict[str, tuple[Fingerprint, UnitSnapshot]]] = WeakKeyDictionary()


class UnitDirectory:
    """The ``units`` and ``unit_groups`` replica tables of one service, and their readers."""

    def __init__(self, metadata: MetaData) -> None:
        self.units = Table(
            "units",
            metadata,
            Column("code", String(64), primary_key=True),
            Column("name", Text, nullable=False),
            Column("aliases", JSON, nullable=False, default=list),
            Column("level", String(20), nullable=False),
            Column("parent_code", String(64), index=True),
            Column("valid_from", Date),
            Column("valid_to", Date),
            Column("version", Integer, nullable=False),
            Column("updated_at", UTCDateTime),  # when this replica applied the version it holds
        )
        self.unit_groups = Table(
            "unit_groups",
            metadata,
            Column("code", String(64), primary_key=True),
            Column("name", Text, nullable=False),
            Column("members", JSON, nullable=False, default=list),
            Column("version", Integer, nullable=False),
        )

    # --- consuming -------------------------------------------------------------------------

    def handlers(self, on_change: OnChange | None = None) -> dict[str, Handler]:
        """The handler table for ``cchc.plans``: merge it into the service's subscription."""

        async def unit_upserted(uow: UnitOfWork, event: CloudEvent) -> None:
            unit = event.data_as(UnitUpsertedIn)
            old = await self.get(uow.session, unit.code)
            if old is not None and old.version >= unit.version:
                return
            statement = upsert(uow.session, self.units).values(**unit.model_dump(), updated_at=uow.clock.now())
            columns = ("name", "aliases", "level", "parent_code", "valid_from", "valid_to", "version", "updated_at")
            statement = statement.on_conflict_do_update(
                index_elements=["code"],
                set_={c: statement.excluded[c] for c in columns},
                where=self.units.c.version < statement.excluded.version,
            )
            await uow.session.execute(statement)
            uow.after_commit(units_changed)
            if on_change is not None:
                await on_change(uow, _record(unit.model_dump()), old)

        async def unit_deleted(uow: UnitOfWork, event: CloudEvent) -> None:
            removed = event.data_as(Removed)
            old = await self.get(uow.session, removed.code)
            if old is None or old.version >= removed.version:
                return
            await uow.session.execute(delete(self.units).where(self.units.c.code == removed.code))
            uow.after_commit(units_changed)
            if on_change is not None:
                await on_change(uow, None, old)

        async def group_upserted(uow: UnitOfWork, event: CloudEvent) -> None:
            group = event.data_as(UnitGroupUpsertedIn)
            table = self.unit_groups
            values = {
                "code": group.code,
                "name": group.name,
                "members": group.resolved_members,
                "version": group.version,
            }
            statement = upsert(uow.session, table).values(**values)
            statement = statement.on_conflict_do_update(
                index_elements=["code"],
                set_={c: statement.excluded[c] for c in ("name", "members", "version")},
                where=table.c.version < statement.excluded.version,
            )
            await uow.session.execute(statement)

        async def group_deleted(uow: UnitOfWork, event: CloudEvent) -> None:
            removed = event.data_as(Removed)
            table = self.unit_groups
            await uow.session.execute(
                delete(table).where(table.c.code == removed.code, table.c.version < removed.version)
            )

        return {
            UNIT_UPSERTED: unit_upserted,
            UNIT_DELETED: unit_deleted,
            GROUP_UPSERTED: group_upserted,
            GROUP_DELETED: group_deleted,
        }

    # --- reading ---------------------------------------------------------------------------

    async def get(self, session: AsyncSession, code: str) -> UnitRecord | None:
        row = (await session.execute(select(self.units).where(self.units.c.code == code))).mappings().first()
        return _record(row) if row is not None else None

    async def page(
        self, session: AsyncSession, *, after: str | None = None, limit: int = 100, where: Any = None
    ) -> list[UnitRecord]:
        """Units in code order (those ``where`` takes, a condition on the table): ``limit`` of them
        after the code ``after``."""
        query = select(self.units).order_by(self.units.c.code).limit(limit)
        if where is not None:
            query = query.where(where)
        if after is not None:
            query = query.where(self.units.c.code > after)
        return [_record(row) for row in (await session.execute(query)).mappings()]

    async def snapshot(self, session: AsyncSession) -> UnitSnapshot:
        """The whole replica: one small aggregate query, and a full read only after a change."""
        return await tree_snapshot(session, self.units)

    async def parents(self, session: AsyncSession) -> dict[str, str | None]:
        return (await self.snapshot(session)).parents

    async def descendants(self, session: AsyncSession, code: str) -> list[str]:
        return (await self.snapshot(session)).descendants(code)

    async def ancestors(self, session: AsyncSession, code: str) -> list[str]:
        return list((await self.snapshot(session)).lineage(code))

    async def group_members(self, session: AsyncSession, group_code: str) -> list[str]:
        table = self.unit_groups
        members = await session.scalar(select(table.c.members).where(table.c.code == group_code))
        return list(members or [])


async def tree_snapshot(session: AsyncSession, table: Table) -> UnitSnapshot:
    """The units of ``table`` (a replica, or the registry ``plans`` owns: the same columns) as a
    tree: one small aggregate query, and a full read only after a change."""
    count, versions, latest = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(table.c.version), 0), func.max(table.c.updated_at))
        )
    ).one()
    fingerprint: Fingerprint = (int(count), int(versions), latest)
    per_engine = _SNAPSHOTS.setdefault(session.get_bind(), {})
    cached = per_engine.get(table.name)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rows = (await session.execute(select(table))).mappings()
    snapshot = UnitSnapshot({row["code"]: _record(row) for row in rows})
    per_engine[table.name] = (fingerprint, snapshot)
    return snapshot


def _record(row: Mapping[str, Any] | RowMapping) -> UnitRecord:
    return UnitRecord(
        code=row["code"],
        name=row["name"],
        aliases=tuple(row["aliases"] or ()),
        level=row["level"],
        parent_code=row["parent_code"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        version=row["version"],
        updated_at=row.get("updated_at"),
    )
