"""apology letters: the dossiers they learn from events, letters, number counters, unit settings, calendar days

Revision ID: 0003_letters
Revises: 0002
Create Date: 2026-12-06 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision: str = "0003_letters"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letter_dossiers",
        sa.Column("ma_ho_so", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("procedure_code", sa.String(64), nullable=False),
        sa.Column("procedure_name", sa.Text(), nullable=True),
        sa.Column("channel", sa.SmallInteger(), nullable=False),
        sa.Column("applicant_name", sa.Text(), nullable=True),
        sa.Column("applicant_address", sa.Text(), nullable=True),
        sa.Column("applicant_phone", sa.String(32), nullable=True),
        sa.Column("applicant_email", sa.String(320), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("rule_set", sa.String(20), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ma_ho_so", name="pk_letter_dossiers"),
    )
    op.create_table(
        "letters",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("ma_ho_so", sa.String(64), nullable=False),
        sa.Column("missed_due_at", UTCDateTime(), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("channel", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("regime", sa.String(20), nullable=False),
        sa.Column("template_id", sa.String(40), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("new_due_at", UTCDateTime(), nullable=False),
        sa.Column("number", sa.String(40), nullable=True),
        sa.Column("number_year", sa.Integer(), nullable=True),
        sa.Column("number_seq", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("approved_by", sa.String(120), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("failed_at", UTCDateTime(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("escalated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_letters"),
        sa.UniqueConstraint("ma_ho_so", "missed_due_at", name="uq_letters_dossier_due"),
        sa.UniqueConstraint("unit_code", "number_year", "number_seq", name="uq_letters_number"),
    )
    op.create_index("ix_letters_ma_ho_so", "letters", ["ma_ho_so"])
    op.create_index("ix_letters_status_channel", "letters", ["status", "channel"])
    issued_only = sa.text("number IS NOT NULL")
    op.create_index(
        "uq_letters_one_issued",
        "letters",
        ["ma_ho_so"],
        unique=True,
        sqlite_where=issued_only,
        postgresql_where=issued_only,
    )
    op.create_table(
        "letter_counters",
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "year", name="pk_letter_counters"),
    )
    op.create_table(
        "letter_settings",
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("superior_body", sa.Text(), nullable=False),
        sa.Column("issuing_body", sa.Text(), nullable=False),
        sa.Column("place_name", sa.Text(), nullable=False),
        sa.Column("signer_authority", sa.Text(), nullable=False),
        sa.Column("signer_title", sa.Text(), nullable=False),
        sa.Column("signer_name", sa.Text(), nullable=False),
        sa.Column("number_suffix", sa.String(20), nullable=False),
        sa.Column("one_stop_name", sa.Text(), nullable=False),
        sa.Column("default_reason", sa.Text(), nullable=False),
        sa.Column("auto_issue", sa.Boolean(), nullable=False),
        sa.Column("draft_on_due_soon", sa.Boolean(), nullable=False),
        sa.Column("extension_working_days", sa.Integer(), nullable=False),
        sa.Column("procedure_extensions", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", name="pk_letter_settings"),
    )


def downgrade() -> None:
    op.drop_table("letter_settings")
    op.drop_table("letter_counters")
    op.drop_index("uq_letters_one_issued", table_name="letters")
    op.drop_index("ix_letters_status_channel", table_name="letters")
    op.drop_index("ix_letters_ma_ho_so", table_name="letters")
    op.drop_table("letters")
    op.drop_table("letter_dossiers")
