"""Tables of the apology letters (on the notifications service's metadata)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from services.notifications.models import Base
from shared.db import UTCDateTime

Json = dict[str, Any]
ISSUED_ONLY = text("number IS NOT NULL")


class LetterDossier(Base):
    """What the dossier events carried of one dossier (event-carried state): enough to write its
    letter without asking the dossiers service. Applicant fields are personal data: never log them."""

    __tablename__ = "letter_dossiers"

    ma_ho_so: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(64))
    procedure_code: Mapped[str] = mapped_column(String(64))
    procedure_name: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[int] = mapped_column(SmallInteger)
    applicant_name: Mapped[str | None] = mapped_column(Text)
    applicant_address: Mapped[str | None] = mapped_column(Text)
    applicant_phone: Mapped[str | None] = mapped_column(String(32))
    applicant_email: Mapped[str | None] = mapped_column(String(320))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rule_set: Mapped[str] = mapped_column(String(20))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Letter(Base):
    """An apology letter. ``(ma_ho_so, missed_due_at)`` is its natural key: one letter per missed
    due date, whatever the redeliveries and replicas. ``content`` is the data it renders, frozen at
    issue with the template id and version, so an issued letter renders as it was issued."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("ma_ho_so", "missed_due_at", name="uq_letters_dossier_due"),
        UniqueConstraint("unit_code", "number_year", "number_seq", name="uq_letters_number"),
        Index("ix_letters_status_channel", "status", "channel"),
        # the once-only rule, kept by the database too: one numbered (issued) letter per dossier
        Index("uq_letters_one_issued", "ma_ho_so", unique=True, sqlite_where=ISSUED_ONLY, postgresql_where=ISSUED_ONLY),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ma_ho_so: Mapped[str] = mapped_column(String(64), index=True)
    missed_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unit_code: Mapped[str] = mapped_column(String(64))
    channel: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(10))
    regime: Mapped[str] = mapped_column(String(20))
    template_id: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    new_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    number: Mapped[str | None] = mapped_column(String(40))
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[Json] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(12))  # due_soon | overdue | officer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(120))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LetterCounter(Base):
    """The last number an issuing unit gave in a year; bumped in the issuing transaction, so a
    rolled-back issue gives its number back (no gaps) and concurrent issues queue on the row."""

    __tablename__ = "letter_counters"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class LetterSettings(Base):
    """A unit's letterhead, signer and letter policy (admin API)."""

    __tablename__ = "letter_settings"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    superior_body: Mapped[str] = mapped_column(Text)
    issuing_body: Mapped[str] = mapped_column(Text)
    place_name: Mapped[str] = mapped_column(Text)
    signer_authority: Mapped[str] = mapped_column(Text)
    signer_title: Mapped[str] = mapped_column(Text)
    signer_name: Mapped[str] = mapped_column(Text)
    number_suffix: Mapped[str] = mapped_column(String(20))
    one_stop_name: Mapped[str] = mapped_column(Text)
    default_reason: Mapped[str] = mapped_column(Text)
    auto_issue: Mapped[bool] = mapped_column(Boolean)
    draft_on_due_soon: Mapped[bool] = mapped_column(Boolean)
    extension_working_days: Mapped[int] = mapped_column(Integer)
    procedure_extensions: Mapped[dict[str, int]] = mapped_column(JSON)  # MaTTHC -> working days
    phone_channel: Mapped[str] = mapped_column(String(8), server_default="sms")  # "sms" or "zalo"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
