"""claimed months: the marks a publisher pass has taken, apart from those consumers write

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claimed_months",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "month", name=op.f("pk_claimed_months")),
    )


def downgrade() -> None:
    op.drop_table("claimed_months")
