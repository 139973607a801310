"""Tables the kernel adds to every service's database: outbox, processed events, dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from shared.db import BigIntPK, UTCDateTime


@dataclass(frozen=True)
class KernelTables:
    outbox: Table
    processed_events: Table
    dead_letters: Table


def kernel_tables(metadata: MetaData) -> KernelTables:
    """Declare the kernel's tables on a service's metadata (its migrations create them)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigIntPK, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(120), nullable=False),
        Column("key", String(200), nullable=False),
        Column("type", String(200), nullable=False),
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
    return KernelTables(outbox=outbox, processed_events=processed, dead_letters=dead)
