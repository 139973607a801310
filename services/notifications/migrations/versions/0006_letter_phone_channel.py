"""letter settings say which channel carries a letter's short form to a mobile number (SMS or Zalo)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("letter_settings") as table:
        table.add_column(sa.Column("phone_channel", sa.String(8), nullable=False, server_default="sms"))


def downgrade() -> None:
    with op.batch_alter_table("letter_settings") as table:
        table.drop_column("phone_channel")
