"""Unit scope: the part of the unit tree a principal sees, applied in the queries themselves.

A principal with ``unit=U`` sees U and every unit below it (the service's unit tree: its units
replica, or the registry ``plans`` owns); ``unit=None`` sees the whole system. The :class:`Scope`
is computed once per request (REST: the :data:`CurrentScope` dependency; GraphQL:
``GraphQLContext.scope``) and passed to the read and write functions, which add
:meth:`Scope.where` to their queries: a list just omits what lies outside, a single object outside
is absent (404 ``not_found``, as for one that does not exist), and a cursor, a filter or a nested
field cannot escape it because every query carries the condition.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, true

from shared.auth import CurrentPrincipal, Principal
from shared.problems import Forbidden, NotFound
from shared.service import Context, ServiceContext
from shared.units import UnitSnapshot, committed_changes


@dataclass(frozen=True)
class Scope:
    """``root`` and the units under it; ``root=None`` is the whole system."""

    root: str | None = None
    units: frozenset[str] = frozenset()
    personal_data: bool = True  # whether citizens' personal data is shown (False for a viewer)

    @property
    def whole_system(self) -> bool:
        return self.root is None

    def allows(self, unit: str | None) -> bool:
        return self.root is None or (unit is not None and unit in self.units)

    def where(self, column: Any) -> ColumnElement[bool]:
        """The query condition "``column`` names a unit in scope" (no condition for the whole system)."""
        return true() if self.root is None else column.in_(sorted(self.units))

    def within(self, units: Iterable[str]) -> list[str]:
        """``units`` that lie in scope, in their order."""
        return [u for u in units if self.allows(u)]

    def check(self, unit: str | None, message: str, *, field: str | None = None) -> None:
        """404 (as if absent) unless ``unit`` lies in scope."""
        if not self.allows(unit):
            errors = [{"field": field, "message": message}] if field else None
            raise NotFound(message, errors=errors)

    def require_whole_system(self, what: str) -> None:
        """403 for a unit-scoped principal: ``what`` (reference data every unit shares) is changed
        by a principal of the whole system only."""
        if self.root is not None:
            raise Forbidden(f"{what} can be changed only by a principal of the whole system, not one scoped to a unit.")


WHOLE_SYSTEM = Scope()
"""The scope of the system itself: consumers, schedulers, and the callers that see everything."""


TREE_MAX_AGE = 1.0
"""Seconds a unit tree read for requests is used without asking the database whether it changed.
A change this process commits is seen at once (:func:`shared.units.units_changed`); one committed
by another process (a replica of the service, ``cchc scoring rebuild``) within this time."""


async def request_scope(context: ServiceContext, principal: Principal) -> Scope:
    """The scope of a request's principal. Only a unit-scoped principal of a service with a unit
    tree needs the tree: the one last read for requests while it is fresh (no database work), else
    read again on a reader unit of work of its own (one small aggregate query when nothing changed)."""
    personal = principal.sees_personal_data
    if principal.unit is None:
        return Scope(personal_data=personal)
    definition = context.definition
    if definition.unit_tree is None:
        return Scope(principal.unit, frozenset({principal.unit}), personal)
    cached: tuple[UnitSnapshot, float, int] | None = context.state.get(_TREE)
    checked, changes = time.monotonic(), committed_changes()
    if cached is None or cached[2] != changes or checked - cached[1] >= TREE_MAX_AGE:
        async with context.reader() as uow:
            cached = context.state[_TREE] = (await definition.unit_tree(uow.session), checked, changes)
    return Scope(principal.unit, cached[0].subtree(principal.unit), personal)


_TREE = "shared.scope.tree"  # ServiceContext.state: (the tree, when it was checked, committed_changes then)


async def get_scope(context: Context, principal: CurrentPrincipal) -> Scope:
    """The request's scope (:func:`request_scope`): a route that reads by
    :meth:`shared.db.Database.read` (one dossier) sets up no session for it (docs/performance.md, "Reads")."""
    return await request_scope(context, principal)


CurrentScope = Annotated[Scope, Depends(get_scope)]
