"""Webhook endpoints, the messages sent to them, and one delivery (with its attempts) per pair."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from services.notifications.models import Base
from services.notifications.queue import Queued
from shared.db import BigIntPK, UTCDateTime


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # ep_<uuid7>
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(300))
    event_types: Mapped[list[str]] = mapped_column(JSON)  # ["*"] or full types
    secret: Mapped[str] = mapped_column(String(100))  # whsec_…: HMAC needs it in clear
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    exhausted_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    # the unit whose subtree's events it receives (None: every event); whether it may receive
    # citizens' personal data unmasked (set by an administrator)
    unit_code: Mapped[str | None] = mapped_column(String(64), index=True)
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookMessage(Base):
    """What is sent: the body (signed as is) and its ``webhook-id`` (the same on every retry);
    ``masked_body``, when the event carries personal data, is what endpoints not allowed to see it get."""

    __tablename__ = "webhook_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # msg_<event id>
    event_type: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    masked_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Queued, Base):
    """``queued → sending → succeeded``, or ``→ retrying`` per the schedule, or ``→ failed`` when
    the schedule ran out (or the endpoint was disabled)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "message_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("webhook_messages.id", ondelete="CASCADE"))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)  # the first 2 KB
    error: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(10))  # succeeded | retry | failed


def body_for(endpoint: WebhookEndpoint, message: WebhookMessage) -> str:
    """The body ``endpoint`` gets: with personal data only if it may see it."""
    return message.body if endpoint.personal_data or message.masked_body is None else message.masked_body
