"""signed pushes: a Standard Webhooks secret per integration key, the message ids seen

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_secrets",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=True),
        sa.Column("previous_until", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_push_secrets")),
    )
    op.create_table(
        "seen_push_messages",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=256), nullable=False),
        sa.Column("seen_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "message_id", name=op.f("pk_seen_push_messages")),
    )
    op.create_index("ix_seen_push_messages_seen_at", "seen_push_messages", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_push_messages_seen_at", table_name="seen_push_messages")
    op.drop_table("seen_push_messages")
    op.drop_table("push_secrets")
