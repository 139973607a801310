"""Pydantic input/output of the plans API."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class UnitLevel(StrEnum):
    province = "province"
    district = "district"  # historical: no district level since 1 July 2025
    commune = "commune"
    department = "department"
    centre = "centre"


class UnitIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300, examples=["UBND xã Cẩm Quang"])
    aliases: list[str] = Field(default_factory=list, examples=[["Cẩm Quang"]])
    level: UnitLevel
    parent_code: str | None = Field(default=None, max_length=64)
    valid_from: date | None = None
    valid_to: date | None = None

    @model_validator(mode="after")
    def _validity(self) -> UnitIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class UnitOut(UnitIn):
    model_config = ConfigDict(from_attributes=True)

    code: str
    version: int
    updated_at: datetime
