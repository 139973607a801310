"""Read side of the scoring service: indicators, series, scorecard, rankings and targets of a unit
(its own counters and every unit below it, rolled up at query time from the unit tree)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring import queries
from services.scoring import targets as t
from services.scoring.catalogue import catalogue
from services.scoring.figures import Figure, figures
from services.scoring.models import Target, directory
from services.scoring.periods import Period, PeriodError, parse_period
from shared.problems import DomainError, NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.units import UnitSnapshot

MAX_SERIES = 120


class InvalidField(DomainError):
    status = 422
    code = "invalid_request"


def period_of(text: str, field: str = "period") -> Period:
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise InvalidField(str(exc), errors=[{"field": field, "message": str(exc)}]) from None


def check_codes(codes: Sequence[str], field: str = "code") -> None:
    unknown = [c for c in codes if catalogue().get(c) is None]
    if unknown:
        message = f"unknown indicator code(s): {', '.join(unknown)}; GET /scoring/v1/catalogue lists them"
        raise InvalidField(message, errors=[{"field": field, "message": message}])


async def scope(
    session: AsyncSession, unit: str, visible: Scope = WHOLE_SYSTEM, tree: UnitSnapshot | None = None
) -> list[str]:
    """The unit and every unit below it; 404 for a unit neither plans nor any dossier named, or
    outside the caller's scope ``visible`` (as if unknown). ``tree``: the unit tree, if read already."""
    tree = tree or await directory.snapshot(session)
    unknown = NotFound(f"Unit {unit} is unknown.", errors=[{"field": "unit", "message": f"no unit {unit}"}], unit=unit)
    if not visible.allows(unit):
        raise unknown
    if unit not in tree.units and not await queries.units_with_counters(session, [unit]):
        raise unknown
    return tree.descendants(unit)


async def unit_figures(
    session: AsyncSession, unit: str, period: Period, visible: Scope = WHOLE_SYSTEM, tree: UnitSnapshot | None = None
) -> dict[str, Figure]:
    return figures(await queries.unit_sums(session, await scope(session, unit, visible, tree), period))


@dataclass(frozen=True)
class Evaluation:
    target: Target
    value: float | None
    projected: float | None
    status: t.TargetStatus

    @property
    def threshold(self) -> float:
        return self.goal.threshold

    @property
    def goal(self) -> t.Goal:
        return t.Goal(self.target.operator, Decimal(str(self.target.value)), self.target.unit)


def bound_units(tree: UnitSnapshot, target: Target) -> list[str]:
    """The units a target binds: its issuer, or each unit of its level at or under the issuer."""
    if target.level is None:
        return [target.issuer_code]
    return [u for u in tree.descendants(target.issuer_code) if u in tree.units and tree.units[u].level == target.level]


async def targets_for(
    session: AsyncSession, unit: str, period_text: str | None = None, tree: UnitSnapshot | None = None
) -> list[Target]:
    """The targets that bind ``unit``: its own, and those of an ancestor for the unit's level.
    ``tree``: the unit tree, if read already. The targets are read as rows (no ORM loading: an
    indicator request reads them every time) into detached :class:`Target` objects, to read only."""
    tree = tree or await directory.snapshot(session)
    T = Target.__table__.c
    query = select(Target.__table__).where(T.issuer_code.in_(list(tree.lineage(unit)))).order_by(T.target_id)
    if period_text is not None:
        query = query.where(T.period == period_text)
    return binding([Target(**row) for row in (await session.execute(query)).mappings()], unit, tree)


async def targets_of_periods(session: AsyncSession, period_texts: Iterable[str]) -> dict[str, list[Target]]:
    """Every target of these periods, by period (read as :func:`targets_for` reads them)."""
    T = Target.__table__.c
    query = select(Target.__table__).where(T.period.in_(sorted(set(period_texts)))).order_by(T.target_id)
    found: dict[str, list[Target]] = {}
    for row in (await session.execute(query)).mappings():
        found.setdefault(row["period"], []).append(Target(**row))
    return found


def binding(targets: Iterable[Target], unit: str, tree: UnitSnapshot) -> list[Target]:
    """Those of ``targets`` that bind ``unit``: its own, and those of an ancestor for the unit's level."""
    record, lineage = tree.units.get(unit), set(tree.lineage(unit))
    level = record.level if record else None
    return [
        x
        for x in targets
        if x.issuer_code in lineage
        and (
            (x.issuer_code == unit and (x.level is None or x.level == level))
            or (x.issuer_code != unit and x.level is not None and x.level == level)
        )
    ]


def evaluate(target: Target, figure: Figure | None, period: Period, now: datetime) -> Evaluation:
    indicator = catalogue().get(target.metric_code)
    value = figure.value if figure is not None else None
    is_count = indicator is not None and indicator.unit == "count"
    goal = t.Goal(target.operator, Decimal(str(target.value)), target.unit)
    status, projected = t.status(goal, value, is_count, period, now)
    return Evaluation(target, value, projected, status)


async def indicators(
    session: AsyncSession,
    unit: str,
    period_text: str,
    codes: Sequence[str],
    now: datetime,
    visible: Scope = WHOLE_SYSTEM,
) -> dict[str, Any]:
    period = period_of(period_text)
    check_codes(codes)
    tree = await directory.snapshot(session)  # once per request: the scope and the targets' lineage
    result = await unit_figures(session, unit, period, visible, tree)
    evaluations: dict[str, Evaluation] = {}
    for target in await targets_for(session, unit, period.text, tree):
        evaluations.setdefault(target.metric_code, evaluate(target, result.get(target.metric_code), period, now))
    items = []
    for indicator in catalogue().indicators:
        if codes and indicator.code not in codes:
            continue
        figure, evaluation = result[indicator.code], evaluations.get(indicator.code)
        items.append(
            {
                "code": indicator.code,
                "name": indicator.name_vi,
                "numerator": figure.numerator,
                "denominator": figure.denominator,
                "value": figure.value,
                "target": evaluation.threshold if evaluation else None,
                "status": evaluation.status.value if evaluation else None,
                "points": figure.points,
                "max_points": figure.max_points,
                "note": figure.note,
            }
        )
    return {"unit": unit, "period": period.text, "as_of": now, "items": items}


GRAINS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def grain_periods(start: Period, end: Period, grain: str) -> list[Period]:
    length = GRAINS[grain]
    first = start.first - start.first % length
    found = []
    while first <= end.last:
        year, month = divmod(first, 12)
        text = {
            1: f"{year}-{month + 1:02d}",
            3: f"{year}-Q{month // 3 + 1}",
            6: f"{year}-H{month // 6 + 1}",
            12: f"{year}",
        }[length]
        found.append(parse_period(text))
        first += length
    return found


async def series(
    session: AsyncSession, unit: str, code: str, start: str, end: str, grain: str, visible: Scope = WHOLE_SYSTEM
) -> dict[str, Any]:
    check_codes([code], "code")
    first, last = period_of(start, "from"), period_of(end, "to")
    if last.last < first.first:
        raise InvalidField("`to` is before `from`", errors=[{"field": "to", "message": "before from"}])
    periods = grain_periods(first, last, grain)
    if len(periods) > MAX_SERIES:
        raise InvalidField(
            f"at most {MAX_SERIES} points", errors=[{"field": "from", "message": f"{len(periods)} points asked"}]
        )
    units = await scope(session, unit, visible)
    points = []
    for period in periods:
        figure = figures(await queries.unit_sums(session, units, period))[code]
        points.append(
            {
                "period": period.text,
                "numerator": figure.numerator,
                "denominator": figure.denominator,
                "value": figure.value,
            }
        )
    return {"unit": unit, "code": code, "grain": grain, "points": points}


async def scorecard(
    session: AsyncSession, unit: str, period_text: str, now: datetime, visible: Scope = WHOLE_SYSTEM
) -> dict[str, Any]:
    period = period_of(period_text)
    result = await unit_figures(session, unit, period, visible)
    groups = []
    for group in catalogue().groups:
        parts = [i for i in catalogue().indicators if i.group == group.code]
        known = [result[i.code] for i in parts if result[i.code].points is not None]
        groups.append(
            {
                "code": group.code,
                "name": group.name_vi,
                "max_points": group.max,
                "points": sum(f.points or 0 for f in known) if known else None,
                "known_max_points": sum(f.max_points or 0 for f in known),
                "items": [
                    {
                        "code": i.code,
                        "name": i.name_vi,
                        "points": result[i.code].points,
                        "max_points": i.max_points,
                        "note": result[i.code].note,
                    }
                    for i in parts
                ],
            }
        )
    total = result["qd766.total_points"]
    return {
        "unit": unit,
        "period": period.text,
        "as_of": now,
        "groups": groups,
        "total": {
            "points": total.points,
            "out_of": total.max_points,
            "max_points": sum(g.max for g in catalogue().groups),
        },
    }


def _rank_value(figure: Figure) -> float | None:
    return figure.points if figure.points is not None else figure.value


async def rankings(
    session: AsyncSession, level: str, parent: str | None, code: str, period_text: str, visible: Scope = WHOLE_SYSTEM
) -> dict[str, Any]:
    """The units of ``level`` (under ``parent``) ranked by ``code``. A caller scoped to a unit sees
    every rank and value (its position among its peers) but the code and name of the units in its
    scope only: the others' are null (docs/security.md)."""
    period = period_of(period_text)
    check_codes([code])
    tree = await directory.snapshot(session)
    if parent is not None:
        await scope(session, parent, visible, tree)
    under = set(tree.descendants(parent)) if parent is not None else set(tree.units)
    scored = []
    for unit in sorted((u for u in tree.units.values() if u.level == level and u.code in under), key=lambda u: u.code):
        figure = figures(await queries.unit_sums(session, tree.descendants(unit.code), period))[code]
        scored.append((unit.code, unit.name, _rank_value(figure)))
    lower_better = catalogue().get(code).direction == "lower"  # type: ignore[union-attr]
    scored.sort(key=lambda r: (r[2] is None, (r[2] if lower_better else -r[2]) if r[2] is not None else 0, r[0]))
    items, rank, previous = [], 0, object()
    for position, (unit_code, name, value) in enumerate(scored, start=1):
        if value != previous:
            rank, previous = position, value
        shown = visible.allows(unit_code)
        items.append(
            {
                "rank": rank if value is not None else None,
                "unit": unit_code if shown else None,
                "name": name if shown else None,
                "value": value,
            }
        )
    return {"level": level, "parent": parent, "code": code, "period": period.text, "count": len(items), "items": items}


async def target_list(
    session: AsyncSession,
    unit: str,
    period_text: str | None,
    status: str | None,
    now: datetime,
    visible: Scope = WHOLE_SYSTEM,
) -> dict[str, Any]:
    if period_text is not None:
        period_text = period_of(period_text).text
    tree = await directory.snapshot(session)
    units = await scope(session, unit, visible, tree)
    items = []
    cache: dict[str, dict[str, Figure]] = {}
    for target in await targets_for(session, unit, period_text, tree):
        try:
            period = parse_period(target.period)
        except PeriodError:
            continue
        if period.text not in cache:
            cache[period.text] = figures(await queries.unit_sums(session, units, period))
        evaluation = evaluate(target, cache[period.text].get(target.metric_code), period, now)
        if status is not None and evaluation.status != status:
            continue
        items.append(
            {
                "target_id": target.target_id,
                "plan_id": target.plan_id,
                "issuer": target.issuer_code,
                "code": target.metric_code,
                "period": period.text,
                "operator": target.operator,
                "target": evaluation.threshold,
                "value": evaluation.value,
                "projected": evaluation.projected,
                "status": evaluation.status.value,
            }
        )
    return {"unit": unit, "as_of": now, "items": items}
