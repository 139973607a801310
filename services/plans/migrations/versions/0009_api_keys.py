"""API keys: the kernel's table of keys (the original in plans, a replica elsewhere)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:10:00.000000
"""

from collections.abc import Sequence

from shared.kernel_migrations import create_api_keys_v1, drop_api_keys_v1

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_api_keys_v1()


def downgrade() -> None:
    drop_api_keys_v1()
