"""Output of the notifications log."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.instants import VnInstant
from shared.personal import masked
from shared.scope import Scope


class DeliveryOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: int
    """The delivery's id"""
    channel: str
    """email, sms or zalo"""
    unit_code: str | None
    """The unit whose people it went to"""
    to: str
    """The address it went to (personal data)"""
    subject: str
    """Its subject (e-mail) or first words"""
    status: str = Field(description="queued, sending, retrying, sent or failed")
    attempts: int
    """Attempts made so far"""
    next_attempt_at: VnInstant | None
    """When it is tried again; null when finished"""
    last_error: str | None
    """The last attempt's error, if any"""
    ref_kind: str | None
    """What it is about: reminder, digest or letter"""
    ref_id: str | None
    """The id of what it is about"""
    provider_id: str | None
    """The id the provider gave the message"""
    created_at: VnInstant
    """When it was queued"""
    finished_at: VnInstant | None
    """When it was sent or given up"""

    @classmethod
    def shown(cls, delivery: object, scope: Scope) -> DeliveryOut:
        """The delivery as ``scope`` may see it: a viewer's with its address masked (and no
        provider error, which may quote it)."""
        out = cls.model_validate(delivery)
        if scope.personal_data:
            return out
        return cls.model_validate({**masked(out.model_dump(), ["to"]), "last_error": None})


class DeliveryAttemptOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    number: int
    """The attempt's number, from 1"""
    started_at: VnInstant
    """When it started"""
    duration_ms: int
    """How long it took, in milliseconds"""
    outcome: str
    """sent, retry (a retryable failure) or failed"""
    status_code: int | None
    """The provider's HTTP status, if any"""
    error: str | None
    """What went wrong, if anything"""

    @classmethod
    def shown(cls, attempt: object, scope: Scope) -> DeliveryAttemptOut:
        """The attempt as ``scope`` may see it: a viewer's without the error (it may quote the address)."""
        out = cls.model_validate(attempt)
        return out if scope.personal_data else out.model_copy(update={"error": None})


class DeliveryDetail(DeliveryOut):
    attempt_log: list[DeliveryAttemptOut]
    """Every attempt, in order"""


class DeliveryPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[DeliveryOut]
    """The deliveries, newest first"""
