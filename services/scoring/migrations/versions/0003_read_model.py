"""read model: dossier and task state, monthly counters and their roll-ups, targets, the units directory

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.kernel_migrations import create_unit_directory_v1, drop_unit_directory_v1

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "received",
    "finished",
    "fin_early",
    "fin_late",
    "fin_fees",
    "fin_paid_online",
    "fin_digitised",
    "fin_reused",
    "late_from",
    "apology_fin_late",
    "apology_late_from",
    "task_known",
    "task_done",
    "task_done_on_time",
)


def _instant(name: str) -> sa.Column:
    return sa.Column(name, shared.db.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    create_unit_directory_v1()
    op.create_table(
        "dossier_states",
        sa.Column("ma_ho_so", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("channel", sa.SmallInteger(), nullable=False),
        _instant("received_at"),
        _instant("due_at"),
        _instant("due_set_at"),
        _instant("finished_at"),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("supplements", sa.Integer(), nullable=False),
        sa.Column("supplements_seen", sa.Integer(), nullable=False),
        _instant("overdue_due"),
        *(
            sa.Column(flag, sa.Boolean(), nullable=False)
            for flag in ("has_fees", "paid_online", "digitised", "reused", "apologised")
        ),
        sa.PrimaryKeyConstraint("ma_ho_so", name=op.f("pk_dossier_states")),
    )
    op.create_table(
        "task_states",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_task_states")),
    )
    op.create_table(
        "counters",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("channel", sa.SmallInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in COUNTERS),
        sa.PrimaryKeyConstraint("unit", "month", "procedure", "channel", name=op.f("pk_counters")),
    )
    op.create_table(
        "unit_months",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in (*COUNTERS, "received_online")),
        sa.PrimaryKeyConstraint("unit", "month", name=op.f("pk_unit_months")),
    )
    op.create_table(
        "procedure_months",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("fin_fees", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("fin_paid_online", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("unit", "month", "procedure", name=op.f("pk_procedure_months")),
    )
    op.create_table(
        "targets",
        sa.Column("target_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("issuer_code", sa.String(64), nullable=False),
        sa.Column("metric_code", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(2), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(10), nullable=False),
        sa.Column("strict", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(20), nullable=True),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("target_id", name=op.f("pk_targets")),
    )
    op.create_table(
        "target_statuses",
        sa.Column("target_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("target_id", "unit", name=op.f("pk_target_statuses")),
    )
    op.create_index(op.f("ix_targets_issuer_code"), "targets", ["issuer_code"])
    op.create_table(
        "dirty_months",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "month", name=op.f("pk_dirty_months")),
    )
    op.create_table(
        "published_indicators",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("published_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("unit", "period", "code", name=op.f("pk_published_indicators")),
    )


def downgrade() -> None:
    for table in (
        "published_indicators",
        "dirty_months",
        "target_statuses",
        "targets",
        "procedure_months",
        "unit_months",
        "counters",
        "task_states",
        "dossier_states",
    ):
        op.drop_table(table)
    drop_unit_directory_v1()
