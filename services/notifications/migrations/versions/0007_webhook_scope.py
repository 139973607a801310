"""webhook endpoints: the unit whose events they receive and whether they may see personal data;
messages: the body with personal data masked

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_code", sa.String(length=64), nullable=True))
        # endpoints made before: no personal data until an administrator allows it
        batch_op.add_column(sa.Column("personal_data", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_webhook_endpoints_unit_code"), ["unit_code"], unique=False)
    with op.batch_alter_table("webhook_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("masked_body", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_messages", schema=None) as batch_op:
        batch_op.drop_column("masked_body")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoints_unit_code"))
        batch_op.drop_column("personal_data")
        batch_op.drop_column("unit_code")
