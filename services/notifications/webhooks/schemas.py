"""Pydantic input/output of the webhook endpoints and their deliveries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api_keys import INTERNAL_EVENT_TYPES
from shared.events import registry
from shared.instants import VnInstant

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
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    url: str = Field(max_length=2000, description="http(s) URL receiving the signed POSTs")
    event_types: list[str] = Field(
        min_length=1, max_length=200, description='["*"] or types such as vn.cchc.dossier.overdue.v1'
    )
    description: str | None = Field(default=None, max_length=300)
    """What it is for"""
    unit_code: str | None = Field(
        default=None,
        max_length=64,
        description="only events about this unit and the units under it (default: the caller's own unit; "
        "none for a caller of the whole system: every event)",
    )
    personal_data: bool = Field(
        default=False, description="receive citizens' personal data unmasked (administrators only)"
    )

    @field_validator("event_types")
    @classmethod
    def _types(cls, types: list[str]) -> list[str]:
        return check_event_types(types)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    """The new URL"""
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=200)
    """The new event types"""
    description: str | None = Field(default=None, max_length=300)
    """The new description"""
    enabled: bool | None = Field(default=None, description="true re-enables an endpoint disabled after failures")
    personal_data: bool | None = Field(
        default=None, description="receive citizens' personal data unmasked (administrators only)"
    )

    @field_validator("event_types")
    @classmethod
    def _types(cls, types: list[str] | None) -> list[str] | None:
        return None if types is None else check_event_types(types)


class WebhookOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """The endpoint's id"""
    url: str
    """The URL the signed POSTs go to"""
    description: str | None
    """What it is for"""
    event_types: list[str]
    """The event types it receives (* for all)"""
    enabled: bool
    """false when disabled (by hand, or after too many failed messages in a row)"""
    disabled_reason: str | None
    """Why it was disabled"""
    unit_code: str | None = Field(description="only events about this unit and those under it; null: every event")
    personal_data: bool = Field(description="whether it receives citizens' personal data unmasked")
    exhausted_in_a_row: int = Field(description="messages in a row whose retries ran out")
    previous_secret_until: VnInstant | None = Field(description="until when the secret rotated out still signs")
    created_at: VnInstant
    """When it was created"""
    updated_at: VnInstant
    """When it last changed"""


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_…: shown once, verify signatures with it")


class SecretRotated(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """The endpoint's id"""
    secret: str
    """The new whsec_… secret: shown once"""
    previous_secret_until: VnInstant | None
    """Until when the old secret still signs too"""


class AttemptOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    number: int
    """The attempt's number, from 1"""
    attempted_at: VnInstant
    """When"""
    duration_ms: int
    """How long it took, in milliseconds"""
    status_code: int | None
    """The endpoint's HTTP status; null when it did not answer"""
    response: str | None = Field(description="the first 2 KB of the answer")
    error: str | None
    """What went wrong, if anything"""
    outcome: str
    """succeeded, retry or failed"""


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: int
    """The delivery's id"""
    endpoint_id: str
    """The endpoint"""
    message_id: str
    """The message (one per event, msg_<event id>; the webhook-id header)"""
    event_type: str
    """The event's type"""
    status: str
    """queued, retrying, succeeded or failed"""
    attempts: int
    """Attempts made so far"""
    next_attempt_at: VnInstant | None
    """When it is tried again; null when finished"""
    last_status_code: int | None
    """The endpoint's last HTTP status"""
    created_at: VnInstant
    """When it was queued"""
    finished_at: VnInstant | None
    """When it succeeded or was given up"""


class WebhookDeliveryDetail(WebhookDeliveryOut):
    attempt_log: list[AttemptOut]
    """Every attempt, in order"""


class WebhookDeliveryPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[WebhookDeliveryOut]
    """The deliveries, newest first"""
