"""a unit's dossiers in one status read in MaHoSo order: ix_dossiers_unit_code_status on (unit_code, status, ma_ho_so)

An officer's everyday list, a district's dossiers in one status, walked each unit's
``(unit_code, ma_ho_so)`` entries and checked the status of every dossier before the first open
one: 260-360 ms on the server at 2,000,000 dossiers. Read per (unit, status) pair from this index
and merged, a page reads at most a page per pair (docs/performance.md, "Lists"). The unit-only
lists need ``(unit_code, ma_ho_so)`` (the statuses of a unit are not one stretch of this index),
so both are kept: one more index per write, measured in docs/performance.md.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dossiers_unit_code_status", "dossiers", ["unit_code", "status", "ma_ho_so"])


def downgrade() -> None:
    op.drop_index("ix_dossiers_unit_code_status", table_name="dossiers")
