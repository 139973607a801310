"""The indicator catalogue: a versioned data file (``catalogue.json``) read once."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


class Group(BaseModel):
    """A group of the QĐ 766 scorecard."""

    code: str
    name_vi: str
    name_en: str
    max: float


class Indicator(BaseModel):
    code: str
    name_vi: str
    name_en: str
    kind: Literal["count", "ratio", "points", "unknown"]
    numerator: str | None
    denominator: str | None
    direction: Literal["higher", "lower"]
    unit: Literal["count", "ratio", "points"]
    source: str
    effective_from: date
    effective_to: date | None
    group: str | None = None
    max_points: float | None = None
    formula: str | None = None  # the name of a formula in :mod:`services.scoring.formulas`; None: unknown
    unknown_reason: str | None = None
    partial_reason: str | None = None


class Catalogue(BaseModel):
    version: str
    source_note: str
    groups: list[Group]
    indicators: list[Indicator]

    def get(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.indicators]


@cache
def catalogue() -> Catalogue:
    return Catalogue.model_validate(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")))
