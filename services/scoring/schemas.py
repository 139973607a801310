"""Pydantic I/O of the scoring service's REST routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.scoring.catalogue import Catalogue
from services.scoring.targets import TargetStatus


class IndicatorItem(BaseModel):
    code: str
    name: str
    numerator: float | None
    denominator: float | None
    value: float | None = Field(
        description="counts: the count; ratios: 0–1, null when the denominator is 0; points: the points"
    )
    target: float | None = Field(description="the bound plan target, in the indicator's unit")
    status: TargetStatus | None
    points: float | None
    max_points: float | None
    note: str | None = Field(None, description="why a value or points are unknown or partial")


class IndicatorsOut(BaseModel):
    unit: str
    period: str
    as_of: datetime
    items: list[IndicatorItem]


class SeriesPoint(BaseModel):
    period: str
    numerator: float | None
    denominator: float | None
    value: float | None


class SeriesOut(BaseModel):
    unit: str
    code: str
    grain: str
    points: list[SeriesPoint]


class ScoreItem(BaseModel):
    code: str
    name: str
    points: float | None
    max_points: float | None
    note: str | None


class ScoreGroup(BaseModel):
    code: str
    name: str
    max_points: float
    points: float | None = Field(description="points over the group's known formulas; null when none is known")
    known_max_points: float = Field(description="the maximum of the known formulas")
    items: list[ScoreItem]


class ScoreTotal(BaseModel):
    points: float | None
    out_of: float | None = Field(description="the maximum of what is known")
    max_points: float = Field(description="100: the scorecard's maximum")


class ScorecardOut(BaseModel):
    unit: str
    period: str
    as_of: datetime
    groups: list[ScoreGroup]
    total: ScoreTotal


class RankedUnit(BaseModel):
    rank: int | None = Field(description="ties share a rank; null without a value")
    unit: str | None = Field(description="null for a unit outside the caller's scope (its rank and value are shown)")
    name: str | None = Field(description="null for a unit outside the caller's scope")
    value: float | None


class RankingsOut(BaseModel):
    level: str
    parent: str | None
    code: str
    period: str
    count: int
    items: list[RankedUnit]


class TargetItem(BaseModel):
    target_id: int
    plan_id: int
    issuer: str
    code: str
    period: str
    operator: str
    target: float
    value: float | None
    projected: float | None
    status: TargetStatus


class TargetsOut(BaseModel):
    unit: str
    as_of: datetime
    items: list[TargetItem]


CatalogueOut = Catalogue
