"""progress per occurrence, reminders keyed by due date and planned under a policy, groups named by
nodes, withdrawn obligations, parent-plan cascade (implements, due dates of nodes)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Existing rows are carried over: an occurrence gets its obligation's progress when it is the
obligation's only one, otherwise ``done`` when it was marked done; a reminder gets its
occurrence's due date; a node gets the due dates its occurrences have (or, without obligations,
its one-off schedule's due date); the groups obligations were expanded from become node groups.
Published plans get no reminder policy: the scheduler re-plans their pending reminders on start.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntPK, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NODES = sa.table("plan_nodes", sa.column("id", sa.Integer), sa.column("schedule", sa.JSON), sa.column("dues", sa.JSON))
_DUES = sa.table("occurrences", sa.column("obligation_id", sa.Integer), sa.column("due", sa.Date))
_OBLIGATIONS = sa.table("obligations", sa.column("id", sa.Integer), sa.column("node_id", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_policy", sa.String(length=100), nullable=True))

    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", UTCDateTime(), nullable=True))

    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="not_started"))
        batch_op.add_column(sa.Column("percent", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("on_time", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE occurrences SET status = 'done', percent = 100, on_time = (done_on <= due) WHERE done_on IS NOT NULL"
    )
    only = "SELECT obligation_id FROM occurrences GROUP BY obligation_id HAVING count(*) = 1"
    for column in ("status", "percent", "note", "evidence", "on_time", "updated_at"):
        op.execute(
            f"UPDATE occurrences SET {column} = (SELECT o.{column} FROM obligations o WHERE o.id = occurrences.obligation_id) "
            f"WHERE obligation_id IN ({only})"
        )
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        for column in ("status", "percent", "evidence", "version"):
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due", sa.Date(), nullable=True))
    op.execute("UPDATE reminders SET due = (SELECT o.due FROM occurrences o WHERE o.id = reminders.occurrence_id)")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.alter_column("due", existing_type=sa.Date(), nullable=False)
        batch_op.drop_constraint("uq_reminders_occurrence_kind_offset", type_="unique")
        batch_op.create_unique_constraint(
            "uq_reminders_occurrence_kind_offset_due", ["occurrence_id", "kind", "offset_days", "due"]
        )

    with op.batch_alter_table("plan_nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("implements_id", BigIntPK, nullable=True))
        batch_op.add_column(sa.Column("dues", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_nodes_implements_id_plan_nodes"),
            "plan_nodes",
            ["implements_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_plan_nodes_implements_id"), ["implements_id"], unique=False)
    _fill_node_dues()
    with op.batch_alter_table("plan_nodes", schema=None) as batch_op:
        batch_op.alter_column("dues", server_default=None)

    op.create_table(
        "node_groups",
        sa.Column("node_id", BigIntPK, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_code"], ["unit_groups.code"], name=op.f("fk_node_groups_group_code_unit_groups")
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["plan_nodes.id"], name=op.f("fk_node_groups_node_id_plan_nodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("node_id", "role", "group_code", name=op.f("pk_node_groups")),
    )
    with op.batch_alter_table("node_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_node_groups_group_code"), ["group_code"], unique=False)
    op.execute(
        "INSERT INTO node_groups (node_id, role, group_code) SELECT DISTINCT node_id, role, group_code FROM obligations "
        "WHERE group_code IN (SELECT code FROM unit_groups)"
    )


def _fill_node_dues() -> None:
    bind = op.get_bind()
    dues: dict[int, set[str]] = {}
    for node_id, due in bind.execute(
        sa.select(_OBLIGATIONS.c.node_id, _DUES.c.due)
        .join(_OBLIGATIONS, _OBLIGATIONS.c.id == _DUES.c.obligation_id)
        .distinct()
    ):
        dues.setdefault(node_id, set()).add(due.isoformat())
    for node_id, schedule in bind.execute(
        sa.select(_NODES.c.id, _NODES.c.schedule).where(_NODES.c.schedule.is_not(None))
    ):
        if node_id not in dues and schedule and schedule.get("kind") != "recurring" and schedule.get("due"):
            dues[node_id] = {schedule["due"]}
    if dues:
        bind.execute(
            _NODES.update().where(_NODES.c.id == sa.bindparam("node")).values(dues=sa.bindparam("values")),
            [{"node": node_id, "values": sorted(values)} for node_id, values in dues.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("node_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_node_groups_group_code"))
    op.drop_table("node_groups")

    with op.batch_alter_table("plan_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_nodes_implements_id"))
        batch_op.drop_constraint(batch_op.f("fk_plan_nodes_implements_id_plan_nodes"), type_="foreignkey")
        batch_op.drop_column("dues")
        batch_op.drop_column("implements_id")

    op.execute(
        "DELETE FROM reminders WHERE id NOT IN (SELECT max(id) FROM reminders GROUP BY occurrence_id, kind, offset_days)"
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reminders_occurrence_kind_offset_due", type_="unique")
        batch_op.create_unique_constraint(
            "uq_reminders_occurrence_kind_offset", ["occurrence_id", "kind", "offset_days"]
        )
        batch_op.drop_column("due")

    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        for column in ("updated_at", "version", "on_time", "evidence", "note", "percent", "status"):
            batch_op.drop_column(column)

    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("reminder_policy")
