"""Reminders (one per subject, kind and due instant) and the notices they make for each contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.notifications.models import Base
from shared.db import BigIntPK, UTCDateTime


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("subject", "kind", "due_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    due_key: Mapped[str] = mapped_column(String(40))  # the due instant (ISO) or the period
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notice(Base):
    """A reminder for one contact: ``sent`` at once (its deliveries queued), or ``digest`` (waits
    for the contact's daily digest: the contact asked for one, or the throttle held it) and then
    ``digested``; ``withdrawn`` when the duty was lifted before it went (``task.withdrawn``)."""

    __tablename__ = "reminder_notices"
    __table_args__ = (UniqueConstraint("reminder_id", "contact_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
