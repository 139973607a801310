"""Tables of the notifications service."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

from shared.db import NAMING_CONVENTION
from shared.kernel_tables import kernel_tables
from shared.unit_calendars import CalendarStore
from shared.units import UnitDirectory


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model here maps a plain table (SQLAlchemy types it a FromClause)


kernel = kernel_tables(Base.metadata)
directory = UnitDirectory(Base.metadata)  # the recipient directory: the units registry as plans publishes it
calendars = CalendarStore(Base.metadata, directory)  # followed from calendar.changed: new return dates count by it


# The tables of the sub-packages (letters, contacts, deliveries, webhooks, reminders) share this metadata.
from services.notifications.channels import models as _channels  # noqa: E402, F401
from services.notifications.directory import models as _directory  # noqa: E402, F401
from services.notifications.letters import models as _letters  # noqa: E402, F401
from services.notifications.reminders import models as _reminders  # noqa: E402, F401
from services.notifications.webhooks import models as _webhooks  # noqa: E402, F401
