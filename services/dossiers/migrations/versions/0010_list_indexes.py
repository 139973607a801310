"""dossier lists in MaHoSo order by unit, procedure, status or timeliness: each index ends with the key

A list is a page in MaHoSo order. With an index on the filtered column alone, PostgreSQL had to
fetch every matching dossier and sort them to return the first fifty (a province's year: hundreds
of thousands), or walk the primary key past every other unit's dossiers. Ending the index with
``ma_ho_so`` lets it read the page in order and stop (docs/performance.md, "Lists"). The
replaced indexes served nothing the new ones do not, so a write maintains as many as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("unit_code", "ma_tthc", "status", "timeliness")


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_dossiers_{column}", table_name="dossiers")
        op.create_index(f"ix_dossiers_{column}", "dossiers", [column, "ma_ho_so"])


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_dossiers_{column}", table_name="dossiers")
        op.create_index(f"ix_dossiers_{column}", "dossiers", [column])
