"""held periods: the (unit, period) pairs whose indicator.changed waits for its second

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_periods",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("due_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("unit", "period", name=op.f("pk_held_periods")),
    )


def downgrade() -> None:
    op.drop_table("held_periods")
