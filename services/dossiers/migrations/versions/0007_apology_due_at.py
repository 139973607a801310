"""dossiers.apology_due_at: when the apology is due, for the officer's morning query

The deadline of the dossiers already stored is computed here with the default office hours and
the administrators' day overrides (the working calendar, which is part of the kernel); a unit with
hours of its own gets its exact deadline at the dossier's next change. Open dossiers are few
beside the finished ones, and only they are read and written.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.calendar import WorkingCalendar

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = (2, 4, 6)  # received, processing, awaiting a financial obligation: the clock runs
NOT_NULL = sa.text("apology_due_at IS NOT NULL")


def upgrade() -> None:
    op.add_column("dossiers", sa.Column("apology_due_at", shared.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_dossiers_apology_due_at",
        "dossiers",
        ["apology_due_at"],
        postgresql_where=NOT_NULL,
        sqlite_where=NOT_NULL,
    )
    bind = op.get_bind()
    days = sa.table("calendar_days", sa.column("day", sa.Date()), sa.column("working", sa.Boolean()))
    calendar = WorkingCalendar(overrides={day: working for day, working in bind.execute(sa.select(days)).all()})
    dossiers = sa.table(
        "dossiers",
        sa.column("ma_ho_so", sa.String()),
        sa.column("status", sa.SmallInteger()),
        sa.column("due_at", shared.db.UTCDateTime(timezone=True)),
        sa.column("apology", sa.JSON()),
        sa.column("apology_due_at", shared.db.UTCDateTime(timezone=True)),
    )
    running = sa.select(dossiers.c.ma_ho_so, dossiers.c.due_at, dossiers.c.apology).where(
        dossiers.c.status.in_(RUNNING), dossiers.c.due_at.isnot(None)
    )
    deadlines = [
        {"key": key, "deadline": calendar.one_working_day_before(due_at)}
        for key, due_at, apology in bind.execute(running).all()
        if not apology
    ]
    if deadlines:
        bind.execute(
            dossiers.update()
            .where(dossiers.c.ma_ho_so == sa.bindparam("key"))
            .values(apology_due_at=sa.bindparam("deadline")),
            deadlines,
        )


def downgrade() -> None:
    op.drop_index("ix_dossiers_apology_due_at", table_name="dossiers")
    op.drop_column("dossiers", "apology_due_at")
