"""What a service declares (:class:`ServiceDefinition`) and what it gets at run time (:class:`ServiceContext`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import MetaData

from shared import migrations
from shared.bus.base import EventBus
from shared.clock import Clock
from shared.consumer import EventConsumer, Subscription
from shared.db import Database
from shared.dead_letters import SqlDeadLetters
from shared.events import topic_of
from shared.kernel_tables import KernelTables
from shared.outbox import OutboxRelay
from shared.settings import Settings
from shared.uow import UnitOfWork

Worker = Callable[["ServiceContext"], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """Everything the chassis needs to run one service; each service's ``app.py`` builds one."""

    name: str
    metadata: MetaData
    tables: KernelTables
    migrations: Path
    router: APIRouter
    graphql_query: type | None = None
    graphql_mutation: type | None = None
    subscriptions: Sequence[Subscription] = ()
    workers: Sequence[Worker] = ()  # long-running tasks: schedulers, pollers
    load_demo: Worker | None = None
    description: str = ""

    @property
    def topic(self) -> str:
        return topic_of(self.name)

    @property
    def source(self) -> str:
        return f"/cchc/{self.name}"

    @property
    def consumer_group(self) -> str:
        return f"cchc.{self.name}"


@dataclass
class ServiceContext:
    """One service at run time: its database, relay and the bus."""

    definition: ServiceDefinition
    settings: Settings
    clock: Clock
    bus: EventBus
    db: Database = field(init=False)
    relay: OutboxRelay = field(init=False)
    dead_letters: SqlDeadLetters = field(init=False)
    state: dict[str, Any] = field(default_factory=dict)  # runtime objects a service owns (its schedulers...)

    def __post_init__(self) -> None:
        d = self.definition
        self.db = Database(self.settings.database_url(d.name), pool_size=self.settings.database_pool_size)
        self.relay = OutboxRelay(
            d.name,
            self.db,
            d.tables,
            self.bus,
            self.clock,
            batch_size=self.settings.relay_batch_size,
            idle_interval=self.settings.relay_idle_interval,
            retention=timedelta(hours=self.settings.outbox_retention_hours),
        )
        self.dead_letters = SqlDeadLetters(self.db, d.tables.dead_letters)

    @property
    def name(self) -> str:
        return self.definition.name

    def uow(self) -> UnitOfWork:
        """A new unit of work on a new session; commits wake the relay."""
        d = self.definition
        return UnitOfWork(
            self.db.sessions(), d.tables, source=d.source, topic=d.topic, clock=self.clock, on_commit=self.relay.wake
        )

    def consumer(self) -> EventConsumer | None:
        d = self.definition
        if not d.subscriptions:
            return None
        return EventConsumer(
            d.consumer_group,
            d.subscriptions,
            uow_factory=self.uow,
            processed=d.tables.processed_events,
            bus=self.bus,
            clock=self.clock,
            max_attempts=self.settings.consumer_max_attempts,
            backoff=self.settings.consumer_retry_backoff,
        )

    async def migrate(self) -> None:
        d = self.definition
        await asyncio.to_thread(migrations.upgrade, d.name, d.migrations, self.db.url)


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


async def get_uow(context: Context) -> AsyncIterator[UnitOfWork]:
    async with context.uow() as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]
