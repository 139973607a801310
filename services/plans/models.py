"""Tables of the plans service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, BigIntPK, UTCDateTime
from shared.kernel_tables import kernel_tables
from shared.unit_calendars import CalendarStore


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model here maps a plain table (SQLAlchemy types it a FromClause)


kernel = kernel_tables(Base.metadata)
calendars = CalendarStore(Base.metadata)  # followed from dossiers' calendar.changed: reminders count working days by it


class Unit(Base):
    """An administrative unit: a People's Committee, a department, a one-stop centre..."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnitGroup(Base):
    """A name plans use for several units ("UBND các xã, thị trấn"), resolved to its members.

    Members are the listed units plus, when ``member_level`` is set, every unit of that level
    whose parent is ``owner_code`` (so a new commune joins "UBND các xã" of its district).
    """

    __tablename__ = "unit_groups"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    member_level: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnitGroupMember(Base):
    __tablename__ = "unit_group_members"

    group_code: Mapped[str] = mapped_column(ForeignKey("unit_groups.code", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)


class Plan(Base):
    """A CCHC plan of one issuing unit for one year."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("issuer_code", "year", "number", name="uq_plans_issuer_year_number"),
        UniqueConstraint("issuer_code", "year", "source_sha256", name="uq_plans_issuer_year_source"),
        # The plans of an issuer, of a year: pages newest first, read in that order (migration 0010).
        Index("ix_plans_issuer_code", "issuer_code", "id"),
        Index("ix_plans_year", "year", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    issuer_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    number: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    issued_on: Mapped[date | None] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str | None] = mapped_column(String(300))
    # SHA-256 of the rows the imported table read as (importing.read_key); plans imported
    # before imports were keyed by content hold the SHA-256 of the file's bytes, still recognised
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    import_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # each imported row's identity → digest of its cells (importing.read_key): what a revised table changed
    source_rows: Mapped[dict[str, str] | None] = mapped_column(JSON, deferred=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # of its content: one per import
    reminder_policy: Mapped[str | None] = mapped_column(String(100))  # offsets and hour its reminders were planned with
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PlanNode(Base):
    """One row of a plan's tree: area → objective → task → activity, keyed by a stable id.

    ``label`` is the printed number ("4.1", "II.1.a.2"), kept as printed even when it repeats.
    ``dues`` are the node's due dates (ISO) as its obligations owe them: its schedule's, or, with no
    date of its own, the deadline of the parent plan's task it implements (``implements_id``).
    ``source_key`` is the imported row (or the structure above rows) the node was read from, by
    which a revised table finds it again (null for a node added by hand); ``removed_at`` is set
    when a revision of a published plan no longer has it (its obligations are withdrawn).
    """

    __tablename__ = "plan_nodes"
    __table_args__ = (
        # Task search on PostgreSQL: the nodes holding a word's trigrams, so a rare word reads its
        # few matches, not every task (migration 0010); SQLite scans.
        Index(
            "ix_plan_nodes_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_nodes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(Text)
    budget_amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    budget_text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    schedule_raw: Mapped[str | None] = mapped_column(Text)
    schedule_kind: Mapped[str | None] = mapped_column(String(20))
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lead_raw: Mapped[str | None] = mapped_column(Text)
    coordinating_raw: Mapped[str | None] = mapped_column(Text)
    unmatched: Mapped[list[str]] = mapped_column(JSON, default=list)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    search_text: Mapped[str] = mapped_column(Text)
    implements_id: Mapped[int | None] = mapped_column(ForeignKey("plan_nodes.id", ondelete="SET NULL"), index=True)
    dues: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_key: Mapped[str | None] = mapped_column(String(40))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlanRevision(Base):
    """One import of a plan's table: the first, or a revision (``changes``: what it added,
    changed, removed, rescheduled and withdrawn; null for an import made before revisions were kept)."""

    __tablename__ = "plan_revisions"
    __table_args__ = (UniqueConstraint("plan_id", "revision", name="uq_plan_revisions_plan_revision"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # the plan's status when the table was imported
    source_name: Mapped[str | None] = mapped_column(String(300))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, int] | None] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NodeGroup(Base):
    """A unit group a node's lead or coordinating cell names: its members' obligations follow it."""

    __tablename__ = "node_groups"

    node_id: Mapped[int] = mapped_column(ForeignKey("plan_nodes.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("unit_groups.code"), primary_key=True, index=True)


class Obligation(Base):
    """What one unit owes for one task or activity, as lead or coordinating unit.

    With occurrences, its progress is theirs rolled up; ``withdrawn_at`` is set when the unit left
    the group it owed this through (the history stays, the reminders stop).
    """

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("node_id", "unit_code", "role", name="uq_obligations_node_unit_role"),
        Index("ix_obligations_unit_code_status", "unit_code", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("plan_nodes.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    role: Mapped[str] = mapped_column(String(20))
    group_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    due: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Occurrence(Base):
    """One due date of an obligation (a recurring duty has one per period), with its own progress;
    ``done_on`` is its completion date."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("obligation_id", "due", name="uq_occurrences_obligation_due"),
        # What a unit owes, what it has overdue: pages in (due, id) order, read in it (migration 0010).
        Index("ix_occurrences_unit_code_due", "unit_code", "due", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    unit_code: Mapped[str] = mapped_column(String(64))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    done_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reminder(Base):
    """A reminder to send for one occurrence and the due date it was planned for; the unique key
    makes it once-only across replicas, and a moved due date a new reminder."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "kind", "offset_days", "due", name="uq_reminders_occurrence_kind_offset_due"),
        Index("ix_reminders_status_fire_at", "status", "fire_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    offset_days: Mapped[int] = mapped_column(Integer)
    due: Mapped[date] = mapped_column(Date)
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Target(Base):
    """A target (chỉ tiêu) of a plan or of one of its nodes; suggested ones await an officer."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("plan_nodes.id", ondelete="CASCADE"), index=True)
    metric_code: Mapped[str | None] = mapped_column(String(100))  # a suggestion may not know it yet
    operator: Mapped[str] = mapped_column(String(2))
    value: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    unit: Mapped[str] = mapped_column(String(20))
    strict: Mapped[bool] = mapped_column(Boolean)
    level: Mapped[str | None] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    source_text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
