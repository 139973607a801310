"""REST routes of the scoring service (mounted at ``/scoring``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from services.scoring import service
from services.scoring.catalogue import catalogue
from services.scoring.schemas import CatalogueOut, IndicatorsOut, RankingsOut, ScorecardOut, SeriesOut, TargetsOut
from services.scoring.targets import TargetStatus
from shared.auth import CurrentPrincipal
from shared.instants import Several
from shared.scope import CurrentScope
from shared.service import Uow

router = APIRouter(prefix="/v1", tags=["scoring"])

Unit = Annotated[str, Query(min_length=1, max_length=64, description="A unit code; its sub-units are rolled up")]
PeriodText = Annotated[str, Query(min_length=1, max_length=20, description="2024, 2024-H1, 2024-Q1 or 2024-03")]
Grain = Literal["month", "quarter", "half", "year"]


@router.get("/catalogue", response_model=CatalogueOut, summary="The indicator catalogue (versioned data)")
async def get_catalogue(principal: CurrentPrincipal) -> CatalogueOut:
    """The indicators this service computes, with their formulas, sources and effective dates, and the QĐ 766 groups (versioned data)."""
    return catalogue()


@router.get("/indicators", response_model=IndicatorsOut, summary="A unit's indicators for a period")
async def get_indicators(
    uow: Uow,
    scope: CurrentScope,
    unit: Unit,
    period: PeriodText,
    code: Annotated[
        Several[str] | None,
        Query(description="Indicator codes to keep, repeated or separated by commas; all without it"),
    ] = None,
) -> dict:
    """A unit's indicators for a period (its sub-units rolled up): numerator, denominator, value, the bound plan target with its status, and QĐ 766 points. Open dossiers are judged at the period's end or now, whichever comes first."""
    return await service.indicators(uow.session, unit, period, code or [], uow.clock.now(), scope)


@router.get("/indicators/{code}/series", response_model=SeriesOut, summary="One indicator period by period, for charts")
async def get_series(
    code: Annotated[str, Path(description="The indicator's code, e.g. dossiers.on_time_rate")],
    uow: Uow,
    scope: CurrentScope,
    unit: Unit,
    start: Annotated[
        str, Query(alias="from", min_length=1, max_length=20, description="The first period (as `period`)")
    ],
    end: Annotated[str, Query(alias="to", min_length=1, max_length=20, description="The last period (as `period`)")],
    grain: Annotated[Grain, Query(description="One point per month, quarter, half or year")] = "month",
) -> dict:
    """One indicator of a unit period by period (month, quarter, half or year) from `from` to `to`, for charts."""
    return await service.series(uow.session, unit, code, start, end, grain, scope)


@router.get("/scorecard", response_model=ScorecardOut, summary="The QĐ 766 scorecard of a unit for a period")
async def get_scorecard(uow: Uow, scope: CurrentScope, unit: Unit, period: PeriodText) -> dict:
    """The QĐ 766 scorecard of a unit for a period: the six groups and their items; an item whose formula is not public is shown as unknown, never as 0."""
    return await service.scorecard(uow.session, unit, period, uow.clock.now(), scope)


@router.get(
    "/rankings", response_model=RankingsOut, summary="The units of a level ranked by an indicator or the 766 total"
)
async def get_rankings(
    uow: Uow,
    scope: CurrentScope,
    level: Annotated[str, Query(min_length=1, max_length=20, description="The level ranked: province, commune...")],
    period: PeriodText,
    code: Annotated[
        str, Query(min_length=1, max_length=64, description="The indicator to rank by, or the QĐ 766 total")
    ] = "qd766.total_points",
    parent: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only the units under this one")
    ] = None,
) -> dict:
    """The units of a level (under `parent` when given) ranked by an indicator or by the QĐ 766 total, best first; ties share a rank."""
    return await service.rankings(uow.session, level, parent, code, period, scope)


@router.get(
    "/targets", response_model=TargetsOut, summary="The plan targets binding a unit, with status and projection"
)
async def get_targets(
    uow: Uow,
    scope: CurrentScope,
    unit: Unit,
    period: Annotated[
        str | None,
        Query(min_length=1, max_length=20, description="Only targets of this period (as above); all without it"),
    ] = None,
    status: Annotated[TargetStatus | None, Query(description="Only targets in this status")] = None,
) -> dict:
    """The plan targets binding a unit, with the indicator's value so far, its projection to the period's end and a status."""
    return await service.target_list(uow.session, unit, period, status, uow.clock.now(), scope)
