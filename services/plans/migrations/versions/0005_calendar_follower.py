"""the calendar overrides and office hours, followed from calendar.changed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 04:20:00.000000
"""

from collections.abc import Sequence

from shared.kernel_migrations import create_calendar_tables_v1, drop_calendar_tables_v1

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_calendar_tables_v1()


def downgrade() -> None:
    drop_calendar_tables_v1()
