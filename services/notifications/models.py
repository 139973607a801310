"""Tables of the notifications service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, UTCDateTime
from shared.kernel_tables import kernel_tables


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


kernel = kernel_tables(Base.metadata)


class Recipient(Base):
    """A unit letters and reminders can be addressed to, replicated from ``unit.upserted``."""

    __tablename__ = "recipients"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(String(64), index=True)
    source_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The tables of the sub-packages (contacts, deliveries, webhooks, reminders) share this metadata.
from services.notifications.channels import models as _channels  # noqa: E402, F401
from services.notifications.directory import models as _directory  # noqa: E402, F401
from services.notifications.reminders import models as _reminders  # noqa: E402, F401
from services.notifications.webhooks import models as _webhooks  # noqa: E402, F401
