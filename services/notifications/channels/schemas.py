"""Output of the notifications log."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.instants import VnInstant


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    unit_code: str | None
    to: str
    subject: str
    status: str = Field(description="queued, sending, retrying, sent or failed")
    attempts: int
    next_attempt_at: VnInstant | None
    last_error: str | None
    ref_kind: str | None
    ref_id: str | None
    provider_id: str | None
    created_at: VnInstant
    finished_at: VnInstant | None


class DeliveryAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: VnInstant
    duration_ms: int
    outcome: str
    status_code: int | None
    error: str | None


class DeliveryDetail(DeliveryOut):
    attempt_log: list[DeliveryAttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
