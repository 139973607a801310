"""the apology-deadline list reads its page in MaHoSo order: ix_dossiers_apology_due_at on (ma_ho_so, apology_due_at)

The index on ``apology_due_at`` alone made a page of ``apology_due=<day>`` fetch every dossier whose
apology falls due that day and sort them: at a province's scale (2,000,000 dossiers) about 5,000
rows and ~100 ms for a page of 50. Keyed by ``ma_ho_so`` first, still only over the dossiers
owing an apology (the partial condition), the page is read in order; the deadline is checked
in the index itself, so only matches are fetched (docs/performance.md, "Lists"). The index
served only this list, so a write maintains as many indexes as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWING = sa.text("apology_due_at IS NOT NULL")


def upgrade() -> None:
    _replace(["ma_ho_so", "apology_due_at"])


def downgrade() -> None:
    _replace(["apology_due_at"])


def _replace(columns: list[str]) -> None:
    op.drop_index("ix_dossiers_apology_due_at", table_name="dossiers")
    op.create_index("ix_dossiers_apology_due_at", "dossiers", columns, postgresql_where=OWING, sqlite_where=OWING)
