"""REST routes of the scoring service (mounted at ``/scoring``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.scoring import service
from services.scoring.catalogue import catalogue
from services.scoring.schemas import CatalogueOut, IndicatorsOut, RankingsOut, ScorecardOut, SeriesOut, TargetsOut
from services.scoring.targets import TargetStatus
from shared.auth import CurrentPrincipal
from shared.scope import CurrentScope
from shared.service import Uow

router = APIRouter(prefix="/v1", tags=["scoring"])

Unit = Annotated[str, Query(min_length=1, max_length=64, description="A unit code; its sub-units are rolled up")]
PeriodText = Annotated[str, Query(min_length=1, max_length=20, description="2024, 2024-H1, 2024-Q1 or 2024-03")]
Grain = Literal["month", "quarter", "half", "year"]


@router.get("/catalogue", response_model=CatalogueOut, summary="The indicator catalogue (versioned data)")
async def get_catalogue(principal: CurrentPrincipal) -> CatalogueOut:
    return catalogue()


@router.get("/indicators", response_model=IndicatorsOut, summary="A unit's indicators for a period")
async def get_indicators(
    uow: Uow,
    scope: CurrentScope,
    unit: Unit,
    period: PeriodText,
    code: Annotated[list[str] | None, Query()] = None,
) -> dict:
    return await service.indicators(uow.session, unit, period, code or [], uow.clock.now(), scope)


@router.get("/indicators/{code}/series", response_model=SeriesOut, summary="One indicator period by period, for charts")
async def get_series(
    code: str,
    uow: Uow,
    scope: CurrentScope,
    unit: Unit,
    start: Annotated[str, Query(alias="from", min_length=1, max_length=20)],
    end: Annotated[str, Query(alias="to", min_length=1, max_length=20)],
    grain: Grain = "month",
) -> dict:
    return await service.series(uow.session, unit, code, start, end, grain, scope)


@router.get("/scorecard", response_model=ScorecardOut, summary="The QĐ 766 scorecard of a unit for a period")
async def get_scorecard(uow: Uow, scope: CurrentScope, unit: Unit, period: PeriodText) -> dict:
    return await service.scorecard(uow.session, unit, period, uow.clock.now(), scope)


@router.get(
    "/rankings", response_model=RankingsOut, summary="The units of a level ranked by an indicator or the 766 total"
)
async def get_rankings(
    uow: Uow,
    scope: CurrentScope,
    level: Annotated[str, Query(min_length=1, max_length=20)],
    period: PeriodText,
    code: Annotated[str, Query(min_length=1, max_length=64)] = "qd766.total_points",
    parent: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict:
    return await service.rankings(uow.session, level, parent, code, period, scope)


@router.get(
    "/targets", response_model=TargetsOut, summary="The plan targets binding a unit, with status and projection"
)
async def get_targets(
    uow: Uow,
    scope: CurrentScope,
    unit: Unit,
    period: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    status: TargetStatus | None = None,
) -> dict:
    return await service.target_list(uow.session, unit, period, status, uow.clock.now(), scope)
