"""Output of the notifications log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.personal import masked
from shared.scope import Scope


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    unit_code: str | None
    to: str
    subject: str
    status: str = Field(description="queued, sending, retrying, sent or failed")
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    ref_kind: str | None
    ref_id: str | None
    provider_id: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def shown(cls, delivery: object, scope: Scope) -> DeliveryOut:
        """The delivery as ``scope`` may see it: a viewer's with its address masked (and no
        provider error, which may quote it)."""
        out = cls.model_validate(delivery)
        if scope.personal_data:
            return out
        return cls.model_validate({**masked(out.model_dump(), ["to"]), "last_error": None})


class DeliveryAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    duration_ms: int
    outcome: str
    status_code: int | None
    error: str | None

    @classmethod
    def shown(cls, attempt: object, scope: Scope) -> DeliveryAttemptOut:
        """The attempt as ``scope`` may see it: a viewer's without the error (it may quote the address)."""
        out = cls.model_validate(attempt)
        return out if scope.personal_data else out.model_copy(update={"error": None})


class DeliveryDetail(DeliveryOut):
    attempt_log: list[DeliveryAttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
