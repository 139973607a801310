"""Tables of the dossiers service."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, UTCDateTime
from shared.kernel_tables import kernel_tables
from shared.unit_calendars import CalendarStore
from shared.units import UnitDirectory


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model here maps a plain table (SQLAlchemy types it a FromClause)


kernel = kernel_tables(Base.metadata)
directory = UnitDirectory(Base.metadata)  # the units registry as ``plans`` publishes it
calendars = CalendarStore(Base.metadata, directory)  # this service owns the calendar: it writes these tables

Json = dict[str, Any]


class Dossier(Base):
    """A TTHC dossier: the national HoSo fields plus what this service derives and records.

    The lists (documents, fees, supplements, result papers) and the recorded facts (status
    history, pauses, due history) are value objects of the aggregate, stored as JSON with it.
    """

    __tablename__ = "dossiers"

    ma_ho_so: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(10))
    agency: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(64))
    ma_tthc: Mapped[str] = mapped_column(String(64))
    procedure_name: Mapped[str | None] = mapped_column(Text)
    field_code: Mapped[str | None] = mapped_column(String(64))
    field_name: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[int] = mapped_column(SmallInteger)
    applicant_name: Mapped[str | None] = mapped_column(Text)
    applicant_id_number: Mapped[str | None] = mapped_column(String(64))
    applicant_type: Mapped[int | None] = mapped_column(SmallInteger)
    applicant_code: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    handling_unit_name: Mapped[str | None] = mapped_column(Text)
    submitted_place: Mapped[str | None] = mapped_column(Text)
    result_form: Mapped[int | None] = mapped_column(SmallInteger)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    original_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rule_set: Mapped[str] = mapped_column(String(20))
    timeliness: Mapped[str | None] = mapped_column(String(16))
    supplement_count: Mapped[int] = mapped_column(Integer, default=0)
    digitised: Mapped[int | None] = mapped_column(SmallInteger)
    vneid_verified: Mapped[int | None] = mapped_column(SmallInteger)
    paid_online: Mapped[int | None] = mapped_column(SmallInteger)
    documents: Mapped[list[Json]] = mapped_column(JSON, default=list)
    fees: Mapped[list[Json]] = mapped_column(JSON, default=list)
    supplements: Mapped[list[Json]] = mapped_column(JSON, default=list)
    result_papers: Mapped[list[Json]] = mapped_column(JSON, default=list)
    extra: Mapped[Json] = mapped_column(JSON, default=dict)
    status_history: Mapped[list[Json]] = mapped_column(JSON, default=list)
    pauses: Mapped[list[Json]] = mapped_column(JSON, default=list)
    due_history: Mapped[list[Json]] = mapped_column(JSON, default=list)
    apology: Mapped[Json | None] = mapped_column(JSON)
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_rank: Mapped[int] = mapped_column(SmallInteger, default=0)
    content_hash: Mapped[str] = mapped_column(String(32))
    alarm_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alarm_kind: Mapped[str | None] = mapped_column(String(32))
    # When the apology is due (one working day before due_at) while one may be owed: open, running,
    # no letter yet. The officer's morning query (apology_due=today) reads it through the index below.
    apology_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # Lists are pages in MaHoSo order: each filter's index ends with the key, so a page is read
        # in order and the scan stops after it (migration 0007).
        *(
            Index(f"ix_dossiers_{column}", column, "ma_ho_so")
            for column in ("unit_code", "ma_tthc", "status", "timeliness")
        ),
        # A unit's dossiers in some statuses: read per (unit, status) pair in key order and merged
        # (migration 0013); the unit-only lists keep (unit_code, ma_ho_so), whose order they need.
        Index("ix_dossiers_unit_code_status", "unit_code", "status", "ma_ho_so"),
        # The scheduler reads only the dossiers falling due: a sweep costs what is due, not what is open.
        Index(
            "ix_dossiers_alarm_at",
            "alarm_at",
            postgresql_where=alarm_at.isnot(None),
            sqlite_where=alarm_at.isnot(None),
        ),
        # The apology-deadline list: only dossiers owing one, in key order, the deadline checked in
        # the index (migration 0012): a page stops after fifty matches.
        Index(
            "ix_dossiers_apology_due_at",
            "ma_ho_so",
            "apology_due_at",
            postgresql_where=apology_due_at.isnot(None),
            sqlite_where=apology_due_at.isnot(None),
        ),
    )


class DossierAlarm(Base):
    """A late-detection event fired: at most one per (dossier, kind, due instant), whatever the replicas."""

    __tablename__ = "dossier_alarms"

    ma_ho_so: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DossierSequence(Base):
    """The last MaHoSo sequence number issued per agency and day (gapless: it rolls back with the intake)."""

    __tablename__ = "dossier_sequences"

    agency: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Procedure(Base):
    """A TTHC of the catalogue, with its legal processing time."""

    __tablename__ = "procedures"

    ma_tthc: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    field_code: Mapped[str | None] = mapped_column(String(64))
    field_name: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    same_day_cutoff: Mapped[bool] = mapped_column(Boolean, default=False)
    fees: Mapped[list[Json]] = mapped_column(JSON, default=list)
    level: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarDay(Base):
    """An administrator's override of the holiday calendar: a day off, or a working weekend day."""

    __table__ = calendars.days

    day: Mapped[date]
    working: Mapped[bool]
    reason: Mapped[str]
    updated_at: Mapped[datetime]


class UnitOfficeHours(Base):
    """A unit's own office hours ("HH:MM-HH:MM" windows, same-day cut-off "HH:MM"); its sub-units
    without their own inherit them, every other unit works the default hours."""

    __table__ = calendars.hours

    unit_code: Mapped[str]
    windows: Mapped[list[str]]
    same_day_cutoff: Mapped[str]
    updated_at: Mapped[datetime]


class PullCursor(Base):
    """Where the pull connector stopped reading a provincial feed."""

    __tablename__ = "pull_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PushSecret(Base):
    """The Standard Webhooks secret an integration key signs its pushes with. While one is set, the
    key's unsigned pushes are refused; ``previous`` still verifies until ``previous_until`` (a rotation)."""

    __tablename__ = "push_secrets"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    previous: Mapped[str | None] = mapped_column(String(64))
    previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SeenPushMessage(Base):
    """A signed push's ``webhook-id``, kept while its timestamp could still verify: a replay is refused."""

    __tablename__ = "seen_push_messages"
    __table_args__ = (Index("ix_seen_push_messages_seen_at", "seen_at"),)

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
