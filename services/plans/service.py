"""The units registry: units, unit groups resolved to their members, bulk import (no HTTP, no commits)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.events import UnitUpserted
from services.plans.models import Obligation, Plan, Unit, UnitGroup, UnitGroupMember
from services.plans.schemas import (
    ImportOutcome,
    UnitGroupIn,
    UnitGroupOut,
    UnitImportResult,
    UnitIn,
    UnitLevel,
    UnitRecord,
)
from services.plans.unit_matching import GroupRef, UnitMatcher, UnitRef
from shared.problems import Conflict, DomainError, NotFound
from shared.uow import UnitOfWork


async def get_unit(session: AsyncSession, code: str) -> Unit:
    unit = await session.get(Unit, code)
    if unit is None:
        raise NotFound(f"No unit with code {code!r}.")
    return unit


async def list_units(
    session: AsyncSession, *, level: UnitLevel | None = None, parent_code: str | None = None
) -> Sequence[Unit]:
    query = select(Unit).order_by(Unit.code)
    if level is not None:
        query = query.where(Unit.level == level)
    if parent_code is not None:
        query = query.where(Unit.parent_code == parent_code)
    return (await session.scalars(query)).all()


async def upsert_unit(uow: UnitOfWork, code: str, data: UnitIn) -> Unit:
    """Create or replace a unit and announce it with ``unit.upserted``."""
    unit, _ = await _upsert_unit(uow, code, data)
    return unit


async def _upsert_unit(uow: UnitOfWork, code: str, data: UnitIn) -> tuple[Unit, ImportOutcome]:
    session = uow.session
    if data.parent_code is not None:
        if data.parent_code == code:
            raise DomainError(
                "A unit cannot be its own parent.",
                errors=[{"field": "parent_code", "message": "equals the unit's own code"}],
            )
        if await session.get(Unit, data.parent_code) is None:
            raise DomainError(
                f"Parent unit {data.parent_code!r} is not registered.",
                errors=[{"field": "parent_code", "message": "unknown unit code"}],
            )
    unit = await session.get(Unit, code)
    values = data.model_dump()
    if unit is None:
        unit = Unit(code=code, version=1, updated_at=uow.clock.now(), **values)
        session.add(unit)
        outcome = ImportOutcome.created
    else:
        if all(getattr(unit, k) == v for k, v in values.items()):
            return unit, ImportOutcome.unchanged
        for key, value in values.items():
            setattr(unit, key, value)
        unit.version += 1
        unit.updated_at = uow.clock.now()
        outcome = ImportOutcome.updated
    await session.flush()
    uow.emit(UnitUpserted(code=code, version=unit.version, **values))
    return unit, outcome


async def import_units(uow: UnitOfWork, records: Sequence[dict[str, Any]]) -> list[UnitImportResult]:
    """Upsert many units, parents before children whatever their order; one bad record never
    sinks the others (every check runs before a record is written)."""
    results: dict[int, UnitImportResult] = {}
    valid: dict[int, UnitRecord] = {}
    for index, raw in enumerate(records):
        try:
            valid[index] = UnitRecord.model_validate(raw)
        except ValidationError as exc:
            code = raw.get("code") if isinstance(raw, dict) else None
            errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            results[index] = UnitImportResult(index=index, code=code, outcome=ImportOutcome.rejected, errors=errors)
    in_batch = {record.code for record in valid.values()}
    done: set[str] = set()
    pending = sorted(valid.items())
    while pending:
        ready = [
            (i, r)
            for i, r in pending
            if r.parent_code not in in_batch or r.parent_code in done or r.parent_code == r.code
        ]
        if not ready:  # a cycle inside the batch: let the parent checks explain it
            ready = pending
        for index, record in ready:
            results[index] = await _import_one(uow, index, record)
            done.add(record.code)
        pending = [(i, r) for i, r in pending if i not in results]
    return [results[i] for i in sorted(results)]


async def _import_one(uow: UnitOfWork, index: int, record: UnitRecord) -> UnitImportResult:
    try:
        _, outcome = await _upsert_unit(uow, record.code, UnitIn.model_validate(record.model_dump(exclude={"code"})))
    except DomainError as exc:  # refused by a check, before anything was written or emitted
        return UnitImportResult(index=index, code=record.code, outcome=ImportOutcome.rejected, errors=exc.errors or [{"message": exc.detail}])
    return UnitImportResult(index=index, code=record.code, outcome=outcome)


async def delete_unit(uow: UnitOfWork, code: str) -> None:
    """Remove a unit nothing refers to; units with history are retired with ``valid_to`` instead."""
    session = uow.session
    await get_unit(session, code)
    referenced = await session.scalar(
        select(
            or_(
                exists().where(Unit.parent_code == code),
                exists().where(Plan.issuer_code == code),
                exists().where(Obligation.unit_code == code),
                exists().where(UnitGroup.owner_code == code),
            )
        )
    )
    if referenced:
        raise Conflict(f"Unit {code!r} is referenced by units, groups or plans; set valid_to to retire it.")
    await session.execute(delete(UnitGroupMember).where(UnitGroupMember.unit_code == code))
    await session.execute(delete(Unit).where(Unit.code == code))


async def upsert_group(uow: UnitOfWork, code: str, data: UnitGroupIn) -> UnitGroupOut:
    """Create or replace a unit group; its members and owner must be registered units."""
    session = uow.session
    known = set(await session.scalars(select(Unit.code).where(Unit.code.in_([*data.members, data.owner_code or ""]))))
    errors = [{"field": "members", "message": f"unknown unit code {m!r}"} for m in data.members if m not in known]
    if data.owner_code is not None and data.owner_code not in known:
        errors.append({"field": "owner_code", "message": "unknown unit code"})
    if data.member_level is not None and data.owner_code is None:
        errors.append({"field": "member_level", "message": "a level rule needs an owner_code"})
    if errors:
        raise DomainError("The group refers to units that are not registered.", errors=errors)
    group = await session.get(UnitGroup, code)
    values = data.model_dump(exclude={"members"})
    members = list(dict.fromkeys(data.members))
    now = uow.clock.now()
    if group is not None:
        current = (await get_group(session, code)).members
        if all(getattr(group, k) == v for k, v in values.items()) and sorted(current) == sorted(members):
            return await get_group(session, code)
    if group is None:
        group = UnitGroup(code=code, version=1, updated_at=now, **values)
        session.add(group)
    else:
        for key, value in values.items():
            setattr(group, key, value)
        group.version += 1
        group.updated_at = now
    await session.flush()
    await session.execute(delete(UnitGroupMember).where(UnitGroupMember.group_code == code))
    for member in members:
        session.add(UnitGroupMember(group_code=code, unit_code=member))
    await session.flush()
    return await get_group(session, code)


async def get_group(session: AsyncSession, code: str) -> UnitGroupOut:
    group = await session.get(UnitGroup, code)
    if group is None:
        raise NotFound(f"No unit group with code {code!r}.")
    return (await _groups_out(session, [group]))[0]


async def list_groups(session: AsyncSession, *, owner_code: str | None = None) -> list[UnitGroupOut]:
    query = select(UnitGroup).order_by(UnitGroup.code)
    if owner_code is not None:
        query = query.where(UnitGroup.owner_code == owner_code)
    return await _groups_out(session, (await session.scalars(query)).all())


async def delete_group(uow: UnitOfWork, code: str) -> None:
    if await uow.session.get(UnitGroup, code) is None:
        raise NotFound(f"No unit group with code {code!r}.")
    await uow.session.execute(delete(UnitGroupMember).where(UnitGroupMember.group_code == code))
    await uow.session.execute(delete(UnitGroup).where(UnitGroup.code == code))


async def _groups_out(session: AsyncSession, groups: Sequence[UnitGroup]) -> list[UnitGroupOut]:
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


def _valid_in(unit: Unit, year: int) -> bool:
    return (unit.valid_from is None or unit.valid_from <= date(year, 12, 31)) and (
        unit.valid_to is None or unit.valid_to >= date(year, 1, 1)
    )


async def matcher_for(session: AsyncSession, issuer_code: str, year: int) -> tuple[UnitMatcher, dict[str, list[str]]]:
    """A matcher for the cells of one issuer's plan of one year, and each group's members.

    Candidates are the units valid that year, the issuer's own subtree first (its "Phòng Nội vụ"
    wins over another district's), then its ancestors and their direct children; groups are those
    owned by the issuer or an ancestor, or by nobody.
    """
    units = [u for u in (await session.scalars(select(Unit))).all() if _valid_in(u, year)]
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
    resolved = await _groups_out(session, groups)
    members = {g.code: [m for m in g.resolved_members if m in by_code] for g in resolved}
    matcher = UnitMatcher(
        [UnitRef(u.code, u.name, tuple(u.aliases), u.level, u.parent_code) for u in ordered.values()],
        [GroupRef(g.code, g.name, tuple(g.aliases), tuple(members[g.code])) for g in resolved],
    )
    return matcher, members
