"""Pydantic input/output of the webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api_keys import INTERNAL_EVENT_TYPES
from shared.events import registry

ANY = "*"
PING_TYPE = "vn.cchc.webhook.test.v1"


def check_event_types(types: list[str]) -> list[str]:
    """``["*"]``, or event types the events registry knows (every service's domain events)."""
    if ANY in types:
        if len(types) > 1:
            raise ValueError('"*" already means every event type: give it alone')
        return types
    unknown = [t for t in types if registry.get(t) is None or t in INTERNAL_EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s): {', '.join(unknown)} (see docs/asyncapi.json)")
    return list(dict.fromkeys(types))


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="http(s) URL receiving the signed POSTs")
    event_types: list[str] = Field(
        min_length=1, max_length=200, description='["*"] or types such as vn.cchc.dossier.overdue.v1'
    )
    description: str | None = Field(default=None, max_length=300)

    @field_validator("event_types")
    @classmethod
    def _types(cls, types: list[str]) -> list[str]:
        return check_event_types(types)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=300)
    enabled: bool | None = Field(default=None, description="true re-enables an endpoint disabled after failures")

    @field_validator("event_types")
    @classmethod
    def _types(cls, types: list[str] | None) -> list[str] | None:
        return None if types is None else check_event_types(types)


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    exhausted_in_a_row: int = Field(description="messages in a row whose retries ran out")
    previous_secret_until: datetime | None = Field(description="until when the secret rotated out still signs")
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_…: shown once, verify signatures with it")


class SecretRotated(BaseModel):
    id: str
    secret: str
    previous_secret_until: datetime | None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    response: str | None = Field(description="the first 2 KB of the answer")
    error: str | None
    outcome: str


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    endpoint_id: str
    message_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    finished_at: datetime | None


class WebhookDeliveryDetail(WebhookDeliveryOut):
    attempt_log: list[AttemptOut]


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDeliveryOut]
