"""Tables the kernel adds to every service's database: outbox, processed events, dead letters, audit
log, API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DDL, JSON, Column, Index, Integer, MetaData, String, Table, Text, event

from shared.db import BigIntPK, UTCDateTime

# A bulk ingest's outbox row is over a megabyte of JSON: lz4 compresses it for half the database
# CPU of pglz, PostgreSQL's default (measured). A server built without lz4 keeps pglz.
OUTBOX_LZ4 = (
    "DO $$ BEGIN ALTER TABLE outbox ALTER COLUMN event_keys SET COMPRESSION lz4, ALTER COLUMN payload SET COMPRESSION lz4;"
    " EXCEPTION WHEN feature_not_supported THEN NULL; END $$"
)

# The audit log is append-only in the database itself, whatever the client: a row can be
# inserted, never changed or removed (nor the table emptied, on PostgreSQL).
AUDIT_LOG_APPEND_ONLY_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',"
    " MESSAGE = 'the audit log is append-only, ' || TG_OP || ' refused'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)
AUDIT_LOG_APPEND_ONLY_SQLITE = tuple(
    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log"
    f" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only, {verb} refused'); END"
    for verb in ("UPDATE", "DELETE")
)


@dataclass(frozen=True)
class KernelTables:
    outbox: Table
    processed_events: Table
    dead_letters: Table
    audit_log: Table
    api_keys: Table  # the owner's keys (plans) or a replica of them: shared.api_keys


def kernel_tables(metadata: MetaData) -> KernelTables:
    """Declare the kernel's tables on a service's metadata (its migrations create them).

    ``audit_log`` holds one row per audited change (:meth:`shared.uow.UnitOfWork.audit`), and the
    database refuses to change or delete its rows (triggers).

    An ``outbox`` row holds the events of one unit of work, in the order they were emitted:
    ``event_keys`` and ``payload`` are their keys and CloudEvents JSON envelopes, one per line
    (``shared.outbox.pack``/``unpack``).
    """
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigIntPK, primary_key=True, autoincrement=True),
        Column("topic", String(120), nullable=False),
        Column("events", Integer, nullable=False),
        Column("event_keys", Text, nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("published_at", UTCDateTime, nullable=True),
    )
    Index(
        "ix_outbox_unpublished",
        outbox.c.id,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    event.listen(outbox, "after_create", DDL(OUTBOX_LZ4).execute_if(dialect="postgresql"))
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", UTCDateTime, nullable=False),
    )
    dead = Table(
        "dead_letters",
        metadata,
        Column("id", BigIntPK, primary_key=True, autoincrement=True),
        Column("consumer", String(120), nullable=False),
        Column("topic", String(120), nullable=False),
        Column("key", String(200), nullable=True),
        Column("event_id", String(36), nullable=True),
        Column("payload", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("failed_at", UTCDateTime, nullable=False),
        Column("replayed_at", UTCDateTime, nullable=True),
    )
    audit = Table(
        "audit_log",
        metadata,
        Column("id", BigIntPK, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False),
        Column("actor", String(200), nullable=False),
        Column("actor_roles", JSON, nullable=False),
        Column("actor_unit", String(64), nullable=True),
        Column("key_id", String(64), nullable=True),
        Column("action", String(64), nullable=False),
        Column("object_type", String(40), nullable=False),
        Column("object_id", String(200), nullable=False),
        Column("client_address", String(64), nullable=True),
        Column("request_id", String(100), nullable=True),
        Column("event_id", String(36), nullable=True),
        Column("changes", JSON, nullable=False),
    )
    Index("ix_audit_log_actor", audit.c.actor, audit.c.id)
    Index("ix_audit_log_object", audit.c.object_type, audit.c.object_id, audit.c.id)
    Index("ix_audit_log_at", audit.c.at)
    for dialect, statements in (
        ("postgresql", AUDIT_LOG_APPEND_ONLY_POSTGRESQL),
        ("sqlite", AUDIT_LOG_APPEND_ONLY_SQLITE),
    ):
        for statement in statements:
            event.listen(audit, "after_create", DDL(statement).execute_if(dialect=dialect))
    api_keys = Table(
        "api_keys",
        metadata,
        Column("id", String(24), primary_key=True),
        Column("name", Text, nullable=False),
        Column("role", String(20), nullable=False),
        Column("unit", String(64)),
        Column("key_hash", String(64), nullable=False, unique=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("expires_at", UTCDateTime),
        Column("revoked_at", UTCDateTime),
        Column("version", Integer, nullable=False),
    )
    return KernelTables(
        outbox=outbox, processed_events=processed, dead_letters=dead, audit_log=audit, api_keys=api_keys
    )
