"""A tiny service for testing the kernel: it publishes ``probe.noted`` and consumes it.

The consumer's effect is one row per event in ``effects``, so duplicates are visible, and
the handler can be told to fail on chosen notes (poison) or to raise a transient fault.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import strawberry
from fastapi import APIRouter
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import OperationalError

from shared.consumer import Subscription
from shared.events import CloudEvent, DomainEvent, event_type
from shared.graphql import service_status_field
from shared.kernel_tables import kernel_tables
from shared.service import ServiceContext, ServiceDefinition
from shared.uow import UnitOfWork
from tests.support.outbox import committed_events

metadata = MetaData()
kernel = kernel_tables(metadata)
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("note", String(200), nullable=False),
)


@event_type("probe.noted", service="probe", subject="key")
class Noted(DomainEvent):
    """A note was taken (test event)."""

    key: str
    note: str


class Behaviour:
    """What the handler does with each note; tests change it."""

    poison: set[str] = set()
    transient_failures: int = 0
    calls: int = 0

    @classmethod
    def reset(cls) -> None:
        cls.poison = set()
        cls.transient_failures = 0
        cls.calls = 0


async def on_noted(uow: UnitOfWork, event: CloudEvent) -> None:
    Behaviour.calls += 1
    note = event.data["note"]
    if note in Behaviour.poison:
        raise ValueError(f"cannot handle note {note!r}")
    if Behaviour.transient_failures > 0:
        Behaviour.transient_failures -= 1
        raise OperationalError("select 1", {}, ConnectionError("database went away"))
    await uow.session.execute(insert(effects).values(event_id=event.id, note=note))


@strawberry.type
class Query:
    probe_status = service_status_field("probe")  # so the root app's /graphql has a schema


def definition(*, consumes: bool = True) -> ServiceDefinition:
    return ServiceDefinition(
        name="probe",
        metadata=metadata,
        tables=kernel,
        migrations=Path("unused"),
        router=APIRouter(),
        graphql_query=Query,
        subscriptions=[Subscription(topic="cchc.probe", handlers={Noted.type: on_noted})] if consumes else [],
    )


async def create_tables(context: ServiceContext) -> None:
    async with context.db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def note(context: ServiceContext, *notes: str, key: str = "k1") -> list[str]:
    """Commit one unit of work emitting one event per note; returns their ids."""
    async with context.uow() as uow:
        emitted = [uow.emit(Noted(key=key, note=n)) for n in notes]
        await uow.commit()
    return emitted


async def outbox_events(context: ServiceContext, ids: list[str]) -> list[CloudEvent]:
    """The committed envelopes of these events, in the order of ``ids``."""
    committed = {event["id"]: event for event in await committed_events(context)}
    return [CloudEvent.model_validate(committed[event_id]) for event_id in ids]


async def effect_notes(context: ServiceContext) -> list[str]:
    async with context.db.read_sessions() as session:
        return list((await session.scalars(select(effects.c.note).order_by(effects.c.id))).all())


async def unpublished(context: ServiceContext) -> int:
    return await context.relay.backlog()


async def outbox_count(context: ServiceContext) -> int:
    """Events in the outbox, published or not."""
    return len(await committed_events(context))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
