"""outbox: one row per unit of work

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:00:00.000000
"""

from collections.abc import Sequence

from shared.kernel_migrations import (
    outbox_per_event_from_v2,
    outbox_per_unit_of_work_v2,
)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    outbox_per_unit_of_work_v2()


def downgrade() -> None:
    outbox_per_event_from_v2()
