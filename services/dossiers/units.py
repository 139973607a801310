"""The units registry as ``plans`` publishes it: handling units named in DonViXuLy, and the unit tree.

The replica is read whole only when it changed. Each use asks for a cheap fingerprint (the number
of units and the sum of their versions: the replica only inserts units and raises versions, so any
change moves it) and reuses the registry built for that fingerprint on that database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from weakref import WeakKeyDictionary

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers.models import UnitReplica
from shared.unit_names import NameMatcher

UnitRow = tuple[str, str, list[str], str | None]  # code, name, aliases, parent code
Fingerprint = tuple[int, int]


class UnitRegistry:
    """Units by code: the tree they form and a tolerant matcher of their names."""

    def __init__(self, units: Iterable[UnitRow]) -> None:
        rows = list(units)
        self.parents: dict[str, str | None] = {code: parent for code, _, _, parent in rows}
        self._names = NameMatcher((code, (name, *aliases)) for code, name, aliases, _ in rows)

    def unit_named(self, name: str | None) -> str | None:
        """The one unit ``name`` designates (diacritics, case, "UBND", abbreviations aside), or
        None when no unit or more than one fits."""
        return self._names.match(name) if name else None

    def lineage(self, code: str) -> Iterator[str]:
        """``code``, its parent, its grandparent... up to the root (a cycle in the replica ends it)."""
        seen: set[str] = set()
        current: str | None = code
        while current is not None and current not in seen:
            yield current
            seen.add(current)
            current = self.parents.get(current)


_REGISTRIES: WeakKeyDictionary[Engine, tuple[Fingerprint, UnitRegistry]] = WeakKeyDictionary()


async def load_registry(session: AsyncSession) -> UnitRegistry:
    """The registry of the session's database: one small aggregate query, and a full read only
    after a unit was added or changed."""
    U = UnitReplica
    count, versions = (await session.execute(select(func.count(), func.coalesce(func.sum(U.version), 0)).select_from(U))).one()
    fingerprint = (int(count), int(versions))
    engine = session.get_bind()
    cached = _REGISTRIES.get(engine)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rows = await session.execute(select(U.code, U.name, U.aliases, U.parent_code))
    registry = UnitRegistry(rows.all())
    _REGISTRIES[engine] = (fingerprint, registry)
    return registry
