"""Unit groups resolved to their members, and the matcher of agency names (no HTTP, no commits)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.models import Unit, UnitGroup, UnitGroupMember
from services.plans.schemas import UnitGroupOut, UnitLevel
from services.plans.unit_matching import GroupRef, UnitMatcher, UnitRef


async def resolve_groups(session: AsyncSession, groups: Sequence[UnitGroup]) -> list[UnitGroupOut]:
    """Each group with its listed members and every member unit, its level rule applied."""
    codes = [g.code for g in groups]
    listed: dict[str, list[str]] = defaultdict(list)
    for group_code, unit_code in await session.execute(
        select(UnitGroupMember.group_code, UnitGroupMember.unit_code)
        .where(UnitGroupMember.group_code.in_(codes))
        .order_by(UnitGroupMember.unit_code)
    ):
        listed[group_code].append(unit_code)
    units = (await session.execute(select(Unit.code, Unit.level, Unit.parent_code))).all()
    by_rule: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for code, level, parent in units:
        by_rule[(level, parent)].append(code)
    return [
        UnitGroupOut(
            code=g.code,
            name=g.name,
            aliases=list(g.aliases),
            owner_code=g.owner_code,
            member_level=UnitLevel(g.member_level) if g.member_level else None,
            members=listed[g.code],
            resolved_members=sorted(
                set(listed[g.code]) | set(by_rule[(g.member_level, g.owner_code)] if g.member_level else ())
            ),
            version=g.version,
        )
        for g in groups
    ]


def valid_in(unit: Unit, year: int) -> bool:
    """Whether the unit existed during some of ``year``."""
    return (unit.valid_from is None or unit.valid_from <= date(year, 12, 31)) and (
        unit.valid_to is None or unit.valid_to >= date(year, 1, 1)
    )


async def matcher_for(session: AsyncSession, issuer_code: str, year: int) -> tuple[UnitMatcher, dict[str, list[str]]]:
    """A matcher for the cells of one issuer's plan of one year, and each group's members.

    Candidates are the units valid that year, the issuer's own subtree first (its "Phòng Nội vụ"
    wins over another district's), then its ancestors and their direct children; groups are those
    owned by the issuer or an ancestor, or by nobody.
    """
    units = [u for u in (await session.scalars(select(Unit))).all() if valid_in(u, year)]
    by_code = {u.code: u for u in units}
    children: dict[str | None, list[Unit]] = defaultdict(list)
    for unit in sorted(units, key=lambda u: u.code):
        children[unit.parent_code].append(unit)
    ordered: dict[str, Unit] = {}
    frontier = [by_code[issuer_code]] if issuer_code in by_code else []
    while frontier:
        unit = frontier.pop(0)
        ordered.setdefault(unit.code, unit)
        frontier.extend(children[unit.code])
    ancestors: list[str] = []
    cursor = by_code.get(issuer_code)
    while cursor is not None and cursor.parent_code is not None and cursor.parent_code not in ancestors:
        ancestors.append(cursor.parent_code)
        cursor = by_code.get(cursor.parent_code)
    for ancestor in ancestors:
        if ancestor in by_code:
            ordered.setdefault(ancestor, by_code[ancestor])
            for child in children[ancestor]:
                ordered.setdefault(child.code, child)
    owners = [issuer_code, *ancestors]
    groups = (
        await session.scalars(
            select(UnitGroup).where(or_(UnitGroup.owner_code.in_(owners), UnitGroup.owner_code.is_(None)))
        )
    ).all()
    resolved = await resolve_groups(session, groups)
    members = {g.code: [m for m in g.resolved_members if m in by_code] for g in resolved}
    matcher = UnitMatcher(
        [UnitRef(u.code, u.name, tuple(u.aliases), u.level, u.parent_code) for u in ordered.values()],
        [GroupRef(g.code, g.name, tuple(g.aliases), tuple(members[g.code])) for g in resolved],
    )
    return matcher, members
