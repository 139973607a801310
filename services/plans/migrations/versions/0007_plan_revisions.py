"""revisions of a plan: its history, each node's source row key, and nodes a revision removed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntPK, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("plan_nodes") as batch:
        batch.add_column(sa.Column("source_key", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("removed_at", UTCDateTime(), nullable=True))
    op.create_table(
        "plan_revisions",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("plan_id", BigIntPK, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source_name", sa.String(length=300), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_revisions_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_revisions")),
        sa.UniqueConstraint("plan_id", "revision", name="uq_plan_revisions_plan_revision"),
    )
    # the imports made before revisions were kept: each imported plan's last import, its first known revision
    op.execute(
        "INSERT INTO plan_revisions (plan_id, revision, status, source_name, source_sha256, changes, imported_at) "
        "SELECT id, 1, status, source_name, source_sha256, NULL, updated_at FROM plans WHERE source_sha256 IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("plan_revisions")
    with op.batch_alter_table("plan_nodes") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("source_key")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("revision")
