"""People and addresses of a unit that reminders and notices go to (on top of the unit directory)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from services.notifications.models import Base
from shared.db import BigIntPK, UTCDateTime


class Contact(Base):
    """A person of a unit, with the channels they are reached on (personal data: never logged)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164, +84…
    zalo_phone: Mapped[str | None] = mapped_column(String(16))
    channels: Mapped[list[str]] = mapped_column(JSON)  # in order of preference: email, sms, zalo
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # reminders once a day instead of at once
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
