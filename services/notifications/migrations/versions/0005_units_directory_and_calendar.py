"""the kernel's units directory replaces the recipients table (rows kept); the calendar followed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime
from shared.kernel_migrations import (
    create_calendar_tables_v1,
    create_unit_directory_v1,
    drop_calendar_tables_v1,
    drop_unit_directory_v1,
)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_unit_directory_v1()
    op.execute(
        "INSERT INTO units (code, name, aliases, level, parent_code, version, updated_at)"
        " SELECT unit_code, name, '[]', level, parent_code, source_version, updated_at FROM recipients"
    )
    op.drop_index("ix_recipients_parent_code", table_name="recipients")
    op.drop_table("recipients")
    create_calendar_tables_v1()


def downgrade() -> None:
    drop_calendar_tables_v1()
    op.create_table(
        "recipients",
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("parent_code", sa.String(64), nullable=True),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", name="pk_recipients"),
    )
    op.create_index("ix_recipients_parent_code", "recipients", ["parent_code"])
    op.execute(
        "INSERT INTO recipients (unit_code, name, level, parent_code, source_version, updated_at)"
        " SELECT code, name, level, parent_code, version, COALESCE(updated_at, CURRENT_TIMESTAMP) FROM units"
    )
    drop_unit_directory_v1()
