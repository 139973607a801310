"""plans, their tree, obligations, occurrences, reminders, targets; unit groups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntPK, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("issuer_code", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("parent_id", BigIntPK, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source_name", sa.String(length=300), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("import_report", sa.JSON(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_code"], ["units.code"], name=op.f("fk_plans_issuer_code_units")),
        sa.ForeignKeyConstraint(["parent_id"], ["plans.id"], name=op.f("fk_plans_parent_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("issuer_code", "year", "number", name="uq_plans_issuer_year_number"),
        sa.UniqueConstraint("issuer_code", "year", "source_sha256", name="uq_plans_issuer_year_source"),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_issuer_code"), ["issuer_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "unit_groups",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("owner_code", sa.String(length=64), nullable=True),
        sa.Column("member_level", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_code"], ["units.code"], name=op.f("fk_unit_groups_owner_code_units")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_unit_groups")),
    )
    with op.batch_alter_table("unit_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_groups_owner_code"), ["owner_code"], unique=False)

    op.create_table(
        "plan_nodes",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("plan_id", BigIntPK, nullable=False),
        sa.Column("parent_id", BigIntPK, nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("budget_amount", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("budget_text", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("schedule_raw", sa.Text(), nullable=True),
        sa.Column("schedule_kind", sa.String(length=20), nullable=True),
        sa.Column("schedule", sa.JSON(), nullable=True),
        sa.Column("lead_raw", sa.Text(), nullable=True),
        sa.Column("coordinating_raw", sa.Text(), nullable=True),
        sa.Column("unmatched", sa.JSON(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["plan_nodes.id"], name=op.f("fk_plan_nodes_parent_id_plan_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_nodes_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_nodes")),
    )
    with op.batch_alter_table("plan_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_nodes_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_nodes_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "unit_group_members",
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["unit_groups.code"],
            name=op.f("fk_unit_group_members_group_code_unit_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f("fk_unit_group_members_unit_code_units")),
        sa.PrimaryKeyConstraint("group_code", "unit_code", name=op.f("pk_unit_group_members")),
    )
    with op.batch_alter_table("unit_group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_group_members_unit_code"), ["unit_code"], unique=False)

    op.create_table(
        "obligations",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("plan_id", BigIntPK, nullable=False),
        sa.Column("node_id", BigIntPK, nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["plan_nodes.id"], name=op.f("fk_obligations_node_id_plan_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_obligations_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f("fk_obligations_unit_code_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.UniqueConstraint("node_id", "unit_code", "role", name="uq_obligations_node_unit_role"),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obligations_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_obligations_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index("ix_obligations_unit_code_status", ["unit_code", "status"], unique=False)

    op.create_table(
        "targets",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("plan_id", BigIntPK, nullable=False),
        sa.Column("node_id", BigIntPK, nullable=True),
        sa.Column("metric_code", sa.String(length=100), nullable=True),
        sa.Column("operator", sa.String(length=2), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("strict", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["plan_nodes.id"], name=op.f("fk_targets_node_id_plan_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_targets_plan_id_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_targets_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_targets_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "occurrences",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("obligation_id", BigIntPK, nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_occurrences_obligation_id_obligations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occurrences")),
        sa.UniqueConstraint("obligation_id", "due", name="uq_occurrences_obligation_due"),
    )
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_occurrences_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index("ix_occurrences_unit_code_due", ["unit_code", "due"], unique=False)

    op.create_table(
        "reminders",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("occurrence_id", BigIntPK, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("fire_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["occurrences.id"],
            name=op.f("fk_reminders_occurrence_id_occurrences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("occurrence_id", "kind", "offset_days", name="uq_reminders_occurrence_kind_offset"),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_status_fire_at", ["status", "fire_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_status_fire_at")

    op.drop_table("reminders")
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_occurrences_unit_code_due")
        batch_op.drop_index(batch_op.f("ix_occurrences_plan_id"))

    op.drop_table("occurrences")
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_targets_plan_id"))
        batch_op.drop_index(batch_op.f("ix_targets_node_id"))

    op.drop_table("targets")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index("ix_obligations_unit_code_status")
        batch_op.drop_index(batch_op.f("ix_obligations_plan_id"))
        batch_op.drop_index(batch_op.f("ix_obligations_node_id"))

    op.drop_table("obligations")
    with op.batch_alter_table("unit_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_group_members_unit_code"))

    op.drop_table("unit_group_members")
    with op.batch_alter_table("plan_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_nodes_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_nodes_parent_id"))

    op.drop_table("plan_nodes")
    with op.batch_alter_table("unit_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_groups_owner_code"))

    op.drop_table("unit_groups")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_parent_id"))
        batch_op.drop_index(batch_op.f("ix_plans_issuer_code"))

    op.drop_table("plans")
