"""GraphQL types and resolvers of the scoring service: the same reads as the REST routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.scalars import JSON
from strawberry.types import Info

from services.scoring import schemas, service
from services.scoring.catalogue import catalogue
from services.scoring.targets import TargetStatus
from shared.graphql import GraphQLContext, domain_error, service_status_field
from shared.problems import DomainError
from shared.scope import Scope

strawberry.enum(TargetStatus, name="ScoringTargetStatus")  # plans has its own TargetStatus


@pydantic_type(model=schemas.IndicatorItem, all_fields=True)
class IndicatorItem:
    pass


@pydantic_type(model=schemas.IndicatorsOut, all_fields=True)
class Indicators:
    pass


@pydantic_type(model=schemas.SeriesPoint, all_fields=True)
class SeriesPoint:
    pass


@pydantic_type(model=schemas.SeriesOut, all_fields=True)
class Series:
    pass


@pydantic_type(model=schemas.ScoreItem, all_fields=True)
class ScoreItem:
    pass


@pydantic_type(model=schemas.ScoreGroup, all_fields=True)
class ScoreGroup:
    pass


@pydantic_type(model=schemas.ScoreTotal, all_fields=True)
class ScoreTotal:
    pass


@pydantic_type(model=schemas.ScorecardOut, all_fields=True)
class Scorecard:
    pass


@pydantic_type(model=schemas.RankedUnit, all_fields=True)
class RankedUnit:
    pass


@pydantic_type(model=schemas.RankingsOut, all_fields=True)
class Rankings:
    pass


@pydantic_type(model=schemas.TargetItem, all_fields=True)
class TargetItem:
    pass


@pydantic_type(model=schemas.TargetsOut, all_fields=True)
class Targets:
    pass


async def _read(
    info: Info[GraphQLContext, None], kind: Any, model: Any, action: Callable[[Any, Any, Scope], Awaitable[dict]]
) -> Any:
    """Run a read of :mod:`services.scoring.service` in the caller's scope; a refusal becomes a
    GraphQL error with its code."""
    context = info.context.service("scoring")
    async with context.uow() as uow:
        try:
            body = await action(uow.session, uow.clock.now(), await info.context.scope("scoring"))
        except DomainError as exc:
            raise domain_error(exc) from exc
    return kind.from_pydantic(model.model_validate(body))


@strawberry.type
class Query:
    scoring_status = service_status_field("scoring")

    @strawberry.field(
        description="A unit's indicators (its sub-units rolled up) for a period: 2024, 2024-H1, 2024-Q1 or 2024-03"
    )
    async def indicators(
        self, info: Info[GraphQLContext, None], unit: str, period: str, codes: list[str] | None = None
    ) -> Indicators:
        return await _read(
            info,
            Indicators,
            schemas.IndicatorsOut,
            lambda s, now, scope: service.indicators(s, unit, period, codes or [], now, scope),
        )

    @strawberry.field(description="One indicator period by period (grain: month, quarter, half or year)")
    async def indicator_series(
        self, info: Info[GraphQLContext, None], unit: str, code: str, start: str, end: str, grain: str = "month"
    ) -> Series:
        if grain not in service.GRAINS:
            raise domain_error(
                service.InvalidField(
                    "grain is month, quarter, half or year", errors=[{"field": "grain", "message": grain}]
                )
            )
        return await _read(
            info,
            Series,
            schemas.SeriesOut,
            lambda s, now, scope: service.series(s, unit, code, start, end, grain, scope),
        )

    @strawberry.field(description="The QĐ 766 scorecard of a unit for a period")
    async def scorecard(self, info: Info[GraphQLContext, None], unit: str, period: str) -> Scorecard:
        return await _read(
            info, Scorecard, schemas.ScorecardOut, lambda s, now, scope: service.scorecard(s, unit, period, now, scope)
        )

    @strawberry.field(description="The units of a level (under a parent) ranked by an indicator or the QĐ 766 total")
    async def rankings(
        self,
        info: Info[GraphQLContext, None],
        level: str,
        period: str,
        code: str = "qd766.total_points",
        parent: str | None = None,
    ) -> Rankings:
        return await _read(
            info,
            Rankings,
            schemas.RankingsOut,
            lambda s, now, scope: service.rankings(s, level, parent, code, period, scope),
        )

    @strawberry.field(description="The plan targets binding a unit, with status and projection")
    async def scoring_targets(
        self, info: Info[GraphQLContext, None], unit: str, period: str | None = None, status: TargetStatus | None = None
    ) -> Targets:
        return await _read(
            info,
            Targets,
            schemas.TargetsOut,
            lambda s, now, scope: service.target_list(s, unit, period, status, now, scope),
        )

    @strawberry.field(description="The indicator catalogue (the data file served at /scoring/v1/catalogue)")
    def indicator_catalogue(self) -> JSON:
        return JSON(catalogue().model_dump(mode="json"))
