"""Tables of the scoring service: per-dossier and per-task state, monthly counters, targets,
and what ``indicator.changed`` last published."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Boolean, Column, Date, Float, Integer, MetaData, SmallInteger, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.scoring.rules import COUNTERS
from shared.db import NAMING_CONVENTION, UTCDateTime
from shared.kernel_tables import kernel_tables
from shared.units import UnitDirectory


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model here maps a plain table (SQLAlchemy types it a FromClause)


kernel = kernel_tables(Base.metadata)
directory = UnitDirectory(Base.metadata)


class DossierState(Base):
    """What the events of one dossier said so far (:class:`services.scoring.rules.DossierState`)."""

    __tablename__ = "dossier_states"

    ma_ho_so: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str | None] = mapped_column(String(64))
    procedure: Mapped[str] = mapped_column(String(64))
    channel: Mapped[int] = mapped_column(SmallInteger)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))
    due_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))  # event time of the due time kept
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))
    resolved: Mapped[bool] = mapped_column(Boolean)
    supplements: Mapped[int] = mapped_column(Integer)  # from dossier.resolved
    supplements_seen: Mapped[int] = mapped_column(Integer)  # requests counted from dossier.status_changed
    overdue_due: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))
    has_fees: Mapped[bool] = mapped_column(Boolean)
    paid_online: Mapped[bool] = mapped_column(Boolean)
    digitised: Mapped[bool] = mapped_column(Boolean)
    reused: Mapped[bool] = mapped_column(Boolean)
    apologised: Mapped[bool] = mapped_column(Boolean)


class TaskState(Base):
    """One occurrence of a plan obligation (:class:`services.scoring.rules.TaskState`)."""

    __tablename__ = "task_states"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    due: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    overdue: Mapped[bool] = mapped_column(Boolean)


COUNTERS_TABLE = Table(
    "counters",
    Base.metadata,
    Column("unit", String(64), primary_key=True),
    Column("month", Integer, primary_key=True),  # year * 12 + month - 1, Vietnam time
    Column("procedure", String(64), primary_key=True),
    Column("channel", SmallInteger, primary_key=True),
    *(Column(name, Integer, nullable=False, server_default="0") for name in COUNTERS),
)
"""Monthly counters per (own unit, month, procedure, channel); see :mod:`services.scoring.rules`."""

UNIT_MONTHS = Table(
    "unit_months",
    Base.metadata,
    Column("unit", String(64), primary_key=True),
    Column("month", Integer, primary_key=True),
    *(Column(name, Integer, nullable=False, server_default="0") for name in (*COUNTERS, "received_online")),
)
"""The same counters summed over procedures and channels (what indicator queries read), plus
dossiers received online; kept in the same transaction as ``counters``."""

PROCEDURE_MONTHS = Table(
    "procedure_months",
    Base.metadata,
    Column("unit", String(64), primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("procedure", String(64), primary_key=True),
    Column("fin_fees", Integer, nullable=False, server_default="0"),
    Column("fin_paid_online", Integer, nullable=False, server_default="0"),
)
"""Per procedure, dossiers finished with fees and paid online: the procedure counts of QĐ 766's
online-payment B (procedures with an online payment ÷ procedures with fees)."""


class Target(Base):
    """A plan target (``target.set``); ``closed`` once every unit it binds has a final status."""

    __tablename__ = "targets"

    target_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plan_id: Mapped[int] = mapped_column(Integer)
    issuer_code: Mapped[str] = mapped_column(String(64), index=True)
    metric_code: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(2))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    strict: Mapped[bool] = mapped_column(Boolean)
    level: Mapped[str | None] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class TargetUnitStatus(Base):
    """The status last evaluated for a target in one unit it binds (events go out on a change)."""

    __tablename__ = "target_statuses"

    target_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class DirtyMonth(Base):
    """A (own unit, month) whose counters moved since the publisher last looked."""

    __tablename__ = "dirty_months"

    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)


class ClaimedMonth(Base):
    """A marked (own unit, month) a publisher pass has taken and not yet finished. The marks are
    moved here in a short transaction of their own, so a consumer marking a month again never
    waits for a pass; a pass that fails leaves its claims to the next one."""

    __tablename__ = "claimed_months"

    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)


class HeldPeriod(Base):
    """A (unit, period) with a changed figure the publisher held back: one of its indicators was
    published less than a second before. It is looked at again at ``due_at`` (the latest value
    goes out then); kept in the database so a restart loses none."""

    __tablename__ = "held_periods"

    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class Published(Base):
    """The value ``indicator.changed`` last published per (unit, period, code)."""

    __tablename__ = "published_indicators"

    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
