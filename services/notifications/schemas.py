"""Pydantic input/output of the notifications service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class UnitUpsertedIn(BaseModel):
    """What this service reads of ``vn.cchc.unit.upserted.v1`` (other fields are ignored)."""

    code: str
    name: str
    level: str
    parent_code: str | None = None
    version: int


class RecipientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    unit_code: str
    name: str
    level: str
    parent_code: str | None
    source_version: int
    updated_at: datetime
