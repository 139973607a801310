"""Pydantic I/O of the scoring service's REST routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.scoring.catalogue import Catalogue
from services.scoring.targets import TargetStatus
from shared.instants import VnInstant


class IndicatorItem(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    """The indicator's code, as plans' target metric codes (dossiers.on_time_rate...)"""
    name: str
    """Its Vietnamese name"""
    numerator: float | None
    """The count above the line (ratios), or the count itself; null when unknown"""
    denominator: float | None
    """The count below the line (ratios); null otherwise or when unknown"""
    value: float | None = Field(
        description="counts: the count; ratios: 0–1, null when the denominator is 0; points: the points"
    )
    target: float | None = Field(description="the bound plan target, in the indicator's unit")
    status: TargetStatus | None
    """Against the bound target: met, on_track, at_risk or missed; null without a target"""
    points: float | None
    """The QĐ 766 points it earns; null when not a scorecard item or unknown"""
    max_points: float | None
    """The most points it can earn"""
    note: str | None = Field(None, description="why a value or points are unknown or partial")


class IndicatorsOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    unit: str
    """The unit's code (its sub-units are rolled up)"""
    period: str
    """The period: 2024, 2024-H1, 2024-Q1 or 2024-03"""
    as_of: VnInstant
    """When the figures were read (open dossiers are judged at this instant or the period's end)"""
    items: list[IndicatorItem]
    """One entry per indicator of the catalogue (or per code asked for)"""


class SeriesPoint(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    period: str
    """The period of this point (2024-03, 2024-Q1, 2024-H1 or 2024)"""
    numerator: float | None
    """The count above the line"""
    denominator: float | None
    """The count below the line"""
    value: float | None
    """The indicator's value in that period; null when the denominator is 0"""


class SeriesOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    unit: str
    """The unit's code (its sub-units are rolled up)"""
    code: str
    """The indicator's code"""
    grain: str
    """month, quarter, half or year"""
    points: list[SeriesPoint]
    """One point per period, in order"""


class ScoreItem(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    """The scorecard item's indicator code"""
    name: str
    """Its Vietnamese name"""
    points: float | None
    """The points it earns; null when its formula is not public"""
    max_points: float | None
    """The most points it can earn"""
    note: str | None
    """Why the points are unknown or partial"""


class ScoreGroup(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    """The group's code"""
    name: str
    """The group's Vietnamese name (Công khai minh bạch, Tiến độ giải quyết...)"""
    max_points: float
    """The group's maximum on the scorecard"""
    points: float | None = Field(description="points over the group's known formulas; null when none is known")
    known_max_points: float = Field(description="the maximum of the known formulas")
    items: list[ScoreItem]
    """Its items"""


class ScoreTotal(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    points: float | None
    """Points over the known formulas; null when none is known"""
    out_of: float | None = Field(description="the maximum of what is known")
    max_points: float = Field(description="100: the scorecard's maximum")


class ScorecardOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    unit: str
    """The unit's code (its sub-units are rolled up)"""
    period: str
    """The period: 2024, 2024-H1, 2024-Q1 or 2024-03"""
    as_of: VnInstant
    """When the figures were read (open dossiers are judged at this instant or the period's end)"""
    groups: list[ScoreGroup]
    """The six QĐ 766 groups"""
    total: ScoreTotal
    """The total over 100"""


class RankedUnit(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    rank: int | None = Field(description="ties share a rank; null without a value")
    unit: str | None = Field(description="null for a unit outside the caller's scope (its rank and value are shown)")
    name: str | None = Field(description="null for a unit outside the caller's scope")
    value: float | None
    """Its value of the indicator (or total) in the period"""


class RankingsOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    level: str
    """The administrative level ranked (province, commune...)"""
    parent: str | None
    """Only the units under this one; null: all of the level"""
    code: str
    """The indicator ranked by, or qd766.total_points"""
    period: str
    """The period: 2024, 2024-H1, 2024-Q1 or 2024-03"""
    count: int
    """How many units are ranked"""
    items: list[RankedUnit]
    """The units, best first"""


class TargetItem(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    target_id: int
    """The target's id in the plans service"""
    plan_id: int
    """The plan that set it"""
    issuer: str
    """The plan's issuing unit"""
    code: str
    """The indicator (metric code) it binds"""
    period: str
    """The period it covers"""
    operator: str
    """>=, >, <= or <"""
    target: float
    """The value to reach"""
    value: float | None
    """The indicator's value so far; null when unknown"""
    projected: float | None
    """The value projected to the period's end at the current pace; null when unknown"""
    status: TargetStatus
    """met, on_track, at_risk or missed"""


class TargetsOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    unit: str
    """The unit's code (its sub-units are rolled up)"""
    as_of: VnInstant
    """When the figures were read (open dossiers are judged at this instant or the period's end)"""
    items: list[TargetItem]
    """The targets binding the unit"""


CatalogueOut = Catalogue
