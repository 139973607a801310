"""units directory of the kernel: validity of units, unit groups

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

from shared.kernel_migrations import (
    complete_units_replica_v1,
    create_unit_directory_v1,
    drop_unit_directory_v1,
    uncomplete_units_replica_v1,
)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    complete_units_replica_v1()
    create_unit_directory_v1(units=False)


def downgrade() -> None:
    drop_unit_directory_v1(units=False)
    uncomplete_units_replica_v1()
