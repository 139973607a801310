"""Pydantic input/output of the notifications service."""

from __future__ import annotations

from pydantic import BaseModel

from shared.instants import VnInstant
from shared.units import UnitRecord


class RecipientOut(BaseModel):
    """A unit of the recipient directory, as this service last heard of it from plans."""

    unit_code: str
    name: str
    level: str
    parent_code: str | None
    source_version: int
    updated_at: VnInstant | None

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
    items: list[RecipientOut]
    next_cursor: str | None
