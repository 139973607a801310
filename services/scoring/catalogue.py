"""The indicator catalogue: a versioned data file (``catalogue.json``) read once."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


class Group(BaseModel):
    """A group of the QĐ 766 scorecard."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    """The group's code"""
    name_vi: str
    """Its Vietnamese name"""
    name_en: str
    """Its English name"""
    max: float
    """Its maximum points"""


class Indicator(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    """The indicator's code (as plans' target metric codes)"""
    name_vi: str
    """Its Vietnamese name"""
    name_en: str
    """Its English name"""
    kind: Literal["count", "ratio", "points", "unknown"]
    """count, ratio, points, or unknown (the formula is not public)"""
    numerator: str | None
    """The counter above the line"""
    denominator: str | None
    """The counter below the line"""
    direction: Literal["higher", "lower"]
    """higher or lower is better"""
    unit: Literal["count", "ratio", "points"]
    """count, ratio (0–1) or points"""
    source: str
    """The legal text or portal it comes from"""
    effective_from: date
    """The first day it applies"""
    effective_to: date | None
    """The last day it applies; null: still in force"""
    group: str | None = None
    """The QĐ 766 group it scores in, if any"""
    max_points: float | None = None
    """The most points it earns on the scorecard"""
    formula: str | None = None  # the name of a formula in :mod:`services.scoring.formulas`; None: unknown
    """The name of its formula; null: unknown"""
    unknown_reason: str | None = None
    """Why it is unknown"""
    partial_reason: str | None = None
    """Why it is only partly known"""


class Catalogue(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    version: str
    """The catalogue's version"""
    source_note: str
    """Where its numbers come from"""
    groups: list[Group]
    """The QĐ 766 groups"""
    indicators: list[Indicator]
    """Every indicator"""

    def get(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.indicators]


@cache
def catalogue() -> Catalogue:
    return Catalogue.model_validate(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")))
