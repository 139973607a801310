"""Handling units named in DonViXuLy: a tolerant matcher over the units directory's names.

The matcher is built once per snapshot of the directory (``shared.units``), so it is rebuilt only
after a unit was added, changed or removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from weakref import WeakKeyDictionary

from shared.unit_names import NameMatcher
from shared.units import UnitSnapshot


class UnitRegistry:
    """Units by code: the tree they form and a tolerant matcher of their names."""

    def __init__(self, snapshot: UnitSnapshot) -> None:
        self.snapshot = snapshot
        self._names = NameMatcher((u.code, (u.name, *u.aliases)) for u in snapshot.units.values())

    def unit_named(self, name: str | None) -> str | None:
        """The one unit ``name`` designates (diacritics, case, "UBND", abbreviations aside), or
        None when no unit or more than one fits."""
        return self._names.match(name) if name else None

    def lineage(self, code: str) -> Iterator[str]:
        return self.snapshot.lineage(code)


_REGISTRIES: WeakKeyDictionary[UnitSnapshot, UnitRegistry] = WeakKeyDictionary()


def registry_of(snapshot: UnitSnapshot) -> UnitRegistry:
    registry = _REGISTRIES.get(snapshot)
    if registry is None:
        registry = _REGISTRIES[snapshot] = UnitRegistry(snapshot)
    return registry
