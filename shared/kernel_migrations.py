"""Migration steps for the kernel's tables, shared by every service's revisions.

Frozen once released: a later change to the kernel tables gets a new function (``..._v2``)
called from new revisions, never a change of what an existing one does.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntPK, UTCDateTime
from shared.kernel_tables import AUDIT_LOG_APPEND_ONLY_POSTGRESQL, AUDIT_LOG_APPEND_ONLY_SQLITE, OUTBOX_LZ4
from shared.outbox import unpack


def create_kernel_tables_v1() -> None:
    _create_outbox_v1()
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("replayed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )


def drop_kernel_tables_v1() -> None:
    op.drop_table("dead_letters")
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")


def _create_outbox_v1() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    _create_unpublished_index()


def _create_unpublished_index() -> None:
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )


def outbox_per_unit_of_work_v2() -> None:
    """The outbox holds one row per unit of work (``shared.outbox.pack``) instead of one per event.

    Rows already there, published or not, become one-event rows in the same order. On
    PostgreSQL the packed text is compressed with lz4 where the server has it.
    """
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.rename_table("outbox", "outbox_v1")
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # the new table's primary key takes this index name
        op.execute("ALTER TABLE outbox_v1 RENAME CONSTRAINT pk_outbox TO pk_outbox_v1")
    op.create_table(
        "outbox",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("event_keys", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    _create_unpublished_index()
    if postgres:
        op.execute(OUTBOX_LZ4)
    op.execute(  # ids are drawn in the order of the sorted rows
        "INSERT INTO outbox (topic, events, event_keys, payload, created_at, published_at)"
        " SELECT topic, 1, key, payload, created_at, published_at FROM outbox_v1 ORDER BY id"
    )
    op.drop_table("outbox_v1")


def outbox_per_event_from_v2() -> None:
    """Back to one row per event: each unit of work's events are split out, in order (read into memory)."""
    stamps = {"created_at": UTCDateTime(), "published_at": UTCDateTime()}
    packed = op.get_bind().execute(
        sa.text("SELECT topic, event_keys, payload, created_at, published_at FROM outbox ORDER BY id").columns(**stamps)
    )
    units = packed.all()
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
    _create_outbox_v1()
    outbox = sa.table(
        "outbox",
        *(sa.column(name) for name in ("event_id", "topic", "key", "type", "payload")),
        *(sa.column(n, t) for n, t in stamps.items()),
    )
    for topic, keys, payload, created_at, published_at in units:
        rows = []
        for key, envelope in unpack(keys, payload):
            head = json.loads(envelope)
            event = {
                "event_id": head["id"],
                "topic": topic,
                "key": key,
                "type": head["type"],
                "payload": envelope.decode(),
            }
            rows.append(event | {"created_at": created_at, "published_at": published_at})
        op.bulk_insert(outbox, rows)


def create_unit_directory_v1(*, units: bool = True) -> None:
    """The tables of :class:`shared.units.UnitDirectory`; ``units=False`` when a service already
    has the older ``units`` replica (code, name, aliases, level, parent code, version) and only
    needs it completed by :func:`complete_units_replica_v1`."""
    if units:
        op.create_table(
            "units",
            sa.Column("code", sa.String(64), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("aliases", sa.JSON(), nullable=False),
            sa.Column("level", sa.String(20), nullable=False),
            sa.Column("parent_code", sa.String(64), nullable=True),
            sa.Column("valid_from", sa.Date(), nullable=True),
            sa.Column("valid_to", sa.Date(), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("updated_at", UTCDateTime(), nullable=True),
            sa.PrimaryKeyConstraint("code", name="pk_units"),
        )
        op.create_index("ix_units_parent_code", "units", ["parent_code"])
    op.create_table(
        "unit_groups",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_unit_groups"),
    )


def drop_unit_directory_v1(*, units: bool = True) -> None:
    op.drop_table("unit_groups")
    if units:
        op.drop_index("ix_units_parent_code", table_name="units")
        op.drop_table("units")


def complete_units_replica_v1() -> None:
    """Give an older ``units`` replica the validity columns of the directory's table."""
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        batch.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))


def uncomplete_units_replica_v1() -> None:
    with op.batch_alter_table("units") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("valid_to")
        batch.drop_column("valid_from")


def create_calendar_tables_v1() -> None:
    """The tables of :class:`shared.unit_calendars.CalendarStore`, for a service that follows the calendar."""
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_calendar_days"),
    )
    op.create_table(
        "unit_office_hours",
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("same_day_cutoff", sa.String(5), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", name="pk_unit_office_hours"),
    )


def drop_calendar_tables_v1() -> None:
    op.drop_table("unit_office_hours")
    op.drop_table("calendar_days")


def create_audit_log_v1() -> None:
    """The audit log (``shared.uow.UnitOfWork.audit``), with the triggers that refuse to change or
    delete its rows (and, on PostgreSQL, to truncate it)."""
    op.create_table(
        "audit_log",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_roles", sa.JSON(), nullable=False),
        sa.Column("actor_unit", sa.String(64), nullable=True),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "id"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id", "id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in AUDIT_LOG_APPEND_ONLY_POSTGRESQL if postgres else AUDIT_LOG_APPEND_ONLY_SQLITE:
        op.execute(statement)


def drop_audit_log_v1() -> None:
    op.drop_table("audit_log")  # its indexes and triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")


def create_api_keys_v1() -> None:
    """The API keys (shared.api_keys): the original in plans, a replica everywhere else."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )


def drop_api_keys_v1() -> None:
    op.drop_table("api_keys")
