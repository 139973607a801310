"""The units registry: units, unit groups, bulk import (no HTTP, no commits).

A change of a group's members, whether the group is redefined or a unit joins or leaves it by
its level rule, is announced with ``unit_group.upserted`` and followed by the obligations of the
plans that name the group (``membership.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.events import UnitDeleted, UnitGroupDeleted, UnitGroupUpserted, UnitUpserted
from services.plans.groups import resolve_groups
from services.plans.membership import follow_groups
from services.plans.models import (
    NodeGroup,
    Obligation,
    Plan,
    Unit,
    UnitGroup,
    UnitGroupMember,
)
from services.plans.schemas import (
    ImportOutcome,
    UnitGroupIn,
    UnitGroupOut,
    UnitImportResult,
    UnitIn,
    UnitLevel,
    UnitPatch,
    UnitRecord,
)
from shared.audit import changed
from shared.db import get_or_404
from shared.problems import Conflict, DomainError, NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.units import units_changed
from shared.uow import UnitOfWork


async def get_unit(session: AsyncSession, code: str, scope: Scope = WHOLE_SYSTEM) -> Unit:
    unit = await get_or_404(session, Unit, code, f"No unit with code {code!r}.")
    if not scope.allows(code):
        raise NotFound(f"No unit with code {code!r}.")
    return unit


async def list_units(
    session: AsyncSession,
    *,
    level: UnitLevel | None = None,
    parent_code: str | None = None,
    after: str | None = None,
    limit: int | None = None,
    scope: Scope = WHOLE_SYSTEM,
) -> Sequence[Unit]:
    """Units in ``scope`` by code, optionally of one level or parent; ``after`` a code, at most ``limit``."""
    query = select(Unit).where(scope.where(Unit.code)).order_by(Unit.code).limit(limit)
    if level is not None:
        query = query.where(Unit.level == level)
    if parent_code is not None:
        query = query.where(Unit.parent_code == parent_code)
    if after is not None:
        query = query.where(Unit.code > after)
    return (await session.scalars(query)).all()


async def upsert_unit(uow: UnitOfWork, code: str, data: UnitIn) -> Unit:
    """Create or replace a unit and announce it with ``unit.upserted``."""
    unit, _ = await _upsert_unit(uow, code, data)
    return unit


async def patch_unit(uow: UnitOfWork, code: str, patch: UnitPatch) -> Unit:
    """Change the fields of a registered unit that ``patch`` sets; the others stay as they are."""
    unit = await get_unit(uow.session, code)
    current = {name: getattr(unit, name) for name in UnitIn.model_fields}
    try:
        data = UnitIn.model_validate({**current, **patch.model_dump(exclude_unset=True)})
    except ValidationError:  # the one check across fields: the validity period
        raise DomainError(
            "The unit would be valid until before it is valid from.",
            errors=[{"field": "valid_to", "message": "is before valid_from"}],
        ) from None
    return await upsert_unit(uow, code, data)


async def _upsert_unit(uow: UnitOfWork, code: str, data: UnitIn) -> tuple[Unit, ImportOutcome]:
    session = uow.session
    uow.after_commit(units_changed)  # requests' cached unit trees look again (shared.scope)
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
    before = _membership_of(unit) if unit is not None else None
    old = {} if unit is None else {k: getattr(unit, k) for k in values}
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
    uow.audit("unit.set", "unit", code, changed(old, values))
    if before != _membership_of(unit):
        await _unit_moved(uow, unit, before)
    return unit, outcome


_Membership = tuple[str, str | None, date | None, date | None]  # level, parent, valid from, valid to


def _membership_of(unit: Unit) -> _Membership:
    """What of a unit decides the groups it belongs to (by level rule) and the plan years it owes in."""
    return (unit.level, unit.parent_code, unit.valid_from, unit.valid_to)


async def _unit_moved(uow: UnitOfWork, unit: Unit, before: _Membership | None) -> None:
    """A unit was created, or changed level, parent or validity: the level-rule groups it joined or
    left announce their new members, and the obligations of every group concerned follow."""
    keys = {(unit.level, unit.parent_code), *([before[:2]] if before else [])}
    rules = (
        await uow.session.scalars(
            select(UnitGroup).where(
                or_(*(and_(UnitGroup.member_level == lv, UnitGroup.owner_code == p) for lv, p in keys))
            )
        )
    ).all()
    listing = set(
        await uow.session.scalars(select(UnitGroupMember.group_code).where(UnitGroupMember.unit_code == unit.code))
    )
    moved = [g for g in rules if g.code not in listing] if len(keys) > 1 or before is None else []
    for group in moved:
        group.version += 1
        group.updated_at = uow.clock.now()
        await _announce_group(uow, group)
    validity_changed = before is not None and before[2:] != _membership_of(unit)[2:]
    await follow_groups(
        uow, {g.code for g in moved} | (listing | {g.code for g in rules} if validity_changed else set())
    )


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
        return UnitImportResult(
            index=index,
            code=record.code,
            outcome=ImportOutcome.rejected,
            errors=exc.errors or [{"message": exc.detail}],
        )
    return UnitImportResult(index=index, code=record.code, outcome=outcome)


async def delete_unit(uow: UnitOfWork, code: str) -> None:
    """Remove a unit nothing refers to; units with history are retired with ``valid_to`` instead."""
    session = uow.session
    uow.after_commit(units_changed)
    unit = await get_unit(session, code)
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
    uow.emit(UnitDeleted(code=code, version=unit.version + 1))
    uow.audit("unit.deleted", "unit", code, {"name": [unit.name, None]})


async def upsert_group(uow: UnitOfWork, code: str, data: UnitGroupIn) -> UnitGroupOut:
    """Create or replace a unit group; its members and owner must be registered units. A change
    is announced (``unit_group.upserted``) and the plans naming the group follow its members."""
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
    old: dict[str, Any] = {}
    if group is not None:
        current = (await get_group(session, code)).members
        if all(getattr(group, k) == v for k, v in values.items()) and sorted(current) == sorted(members):
            return await get_group(session, code)
        old = {**{k: getattr(group, k) for k in values}, "members": sorted(current)}
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
    resolved = await _announce_group(uow, group)
    uow.audit("unit_group.set", "unit_group", code, changed(old, {**values, "members": sorted(members)}))
    await follow_groups(uow, [code])
    return resolved


async def _announce_group(uow: UnitOfWork, group: UnitGroup) -> UnitGroupOut:
    [resolved] = await resolve_groups(uow.session, [group])
    uow.emit(UnitGroupUpserted(**resolved.model_dump(mode="json")))
    return resolved


async def get_group(session: AsyncSession, code: str, scope: Scope = WHOLE_SYSTEM) -> UnitGroupOut:
    """The group, if its owner lies in ``scope`` (a group without owner: the whole system's)."""
    group = await session.scalar(select(UnitGroup).where(UnitGroup.code == code, scope.where(UnitGroup.owner_code)))
    if group is None:
        raise NotFound(f"No unit group with code {code!r}.")
    return (await resolve_groups(session, [group]))[0]


async def list_groups(
    session: AsyncSession,
    *,
    owner_code: str | None = None,
    after: str | None = None,
    limit: int | None = None,
    scope: Scope = WHOLE_SYSTEM,
) -> list[UnitGroupOut]:
    """Groups owned in ``scope`` by code with their resolved members; ``after`` a code, at most ``limit``."""
    query = select(UnitGroup).where(scope.where(UnitGroup.owner_code)).order_by(UnitGroup.code).limit(limit)
    if owner_code is not None:
        query = query.where(UnitGroup.owner_code == owner_code)
    if after is not None:
        query = query.where(UnitGroup.code > after)
    return await resolve_groups(session, (await session.scalars(query)).all())


async def delete_group(uow: UnitOfWork, code: str) -> None:
    """Remove a group no plan names (``unit_group.deleted``); one a plan names is kept (409)."""
    group = await get_or_404(uow.session, UnitGroup, code, f"No unit group with code {code!r}.")
    if await uow.session.scalar(select(exists().where(NodeGroup.group_code == code))):
        raise Conflict(
            f"Kế hoạch đang giao nhiệm vụ cho nhóm {code!r}; không xóa được nhóm này.",
            errors=[{"field": "code", "message": "nhóm đang được kế hoạch sử dụng"}],
        )
    await uow.session.execute(delete(UnitGroupMember).where(UnitGroupMember.group_code == code))
    await uow.session.execute(delete(UnitGroup).where(UnitGroup.code == code))
    uow.emit(UnitGroupDeleted(code=code, version=group.version))
    uow.audit("unit_group.deleted", "unit_group", code, {"name": [group.name, None]})
