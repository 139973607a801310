"""kernel tables

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from shared.kernel_migrations import create_kernel_tables_v1, drop_kernel_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kernel_tables_v1()


def downgrade() -> None:
    drop_kernel_tables_v1()
