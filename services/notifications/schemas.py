"""Pydantic input/output of the notifications service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.instants import VnInstant
from shared.units import UnitRecord


class RecipientOut(BaseModel):
    """A unit of the recipient directory, as this service last heard of it from plans."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    unit_code: str
    """The unit's code"""
    name: str
    """The unit's name"""
    level: str
    """province, district, commune, department or centre"""
    parent_code: str | None
    """The unit it belongs to"""
    source_version: int
    """The version of the plans service's unit this copy follows"""
    updated_at: VnInstant | None
    """When this copy last changed"""

    @classmethod
    def of(cls, unit: UnitRecord) -> RecipientOut:
        return cls(
            unit_code=unit.code,
            name=unit.name,
            level=unit.level,
            parent_code=unit.parent_code,
            source_version=unit.version,
            updated_at=unit.updated_at,
        )


class RecipientPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[RecipientOut]
    """The units of this page, by code"""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page"""
