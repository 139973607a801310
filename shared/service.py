"""What a service declares (:class:`ServiceDefinition`) and what it gets at run time (:class:`ServiceContext`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import MetaData

from shared import migrations
from shared.access import AccessTable
from shared.api_keys import KeyRing
from shared.auth import CurrentPrincipal, Principal
from shared.bus.base import EventBus
from shared.clock import Clock
from shared.consumer import EventConsumer, Subscription
from shared.db import Database
from shared.dead_letters import SqlDeadLetters
from shared.deadline_scheduler import DeadlineScheduler
from shared.events import topic_of
from shared.kernel_tables import KernelTables
from shared.outbox import OutboxRelay
from shared.processed_events import ProcessedEventsPurge
from shared.request_limits import BodyRule
from shared.settings import Settings
from shared.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.hot_reads import HotRead
    from shared.units import UnitSnapshot

Worker = Callable[["ServiceContext"], Coroutine[Any, Any, None]]  # a coroutine: each runs as a task


@dataclass(frozen=True)
class Deadlines:
    """A deadline scheduler a service declares; the kernel builds one per process, runs it, and
    wakes it after every unit of work that committed events or said :meth:`UnitOfWork.deadlines_moved`,
    so no route pokes it by hand.

    ``next_due(context)`` is the earliest instant something falls due; ``sweep(context, now)`` acts
    on everything due at ``now`` (idempotently: several replicas may sweep the same instant).
    """

    name: str
    next_due: Callable[[ServiceContext], Awaitable[datetime | None]]
    sweep: Callable[[ServiceContext, datetime], Awaitable[None]]
    max_sleep: Callable[[Settings], float] = lambda settings: 60.0


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
    workers: Sequence[Worker] = ()  # long-running tasks: pollers...
    deadlines: Sequence[Deadlines] = ()
    load_demo: Worker | None = None
    description: str = ""
    body_rules: Sequence[BodyRule] = ()  # routes whose bodies may exceed limits_body_max_bytes or not be JSON
    # the unit tree as this service knows it (its units replica, or the registry): principals'
    # unit scopes are read in it (shared/scope.py); without it a scoped principal sees its own unit only
    unit_tree: Callable[[AsyncSession], Awaitable[UnitSnapshot]] | None = None
    access: AccessTable = field(default_factory=AccessTable)  # who may call each route and root field
    # the service's settings class (services/<name>/settings.py): a process's settings compose it
    settings: type[Settings] = Settings
    # GETs answered before routing in the plain case (shared/hot_reads.py); the routes stay their definition
    hot_reads: Sequence[HotRead] = ()

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
    processed_events: ProcessedEventsPurge = field(init=False)
    state: dict[str, Any] = field(default_factory=dict)  # runtime objects a service owns
    schedulers: dict[str, DeadlineScheduler] = field(init=False)
    keys: KeyRing = field(init=False)

    def __post_init__(self) -> None:
        d = self.definition
        self.db = Database(
            self.settings.database_url(d.name),
            pool_size=self.settings.database_pool_size,
            read_connections=self.settings.database_read_connections,
        )
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
        self.processed_events = ProcessedEventsPurge(
            d.name,
            self.db,
            d.tables.processed_events,
            self.clock,
            timedelta(hours=self.settings.processed_events_retention_hours),
        )
        self.schedulers = {spec.name: self._scheduler(spec) for spec in d.deadlines}
        self.keys = KeyRing(self.db, d.tables.api_keys, self.clock, interval=self.settings.auth_key_refresh_interval)

    def _scheduler(self, spec: Deadlines) -> DeadlineScheduler:
        return DeadlineScheduler(
            f"{self.name}.{spec.name}",
            next_due=partial(spec.next_due, self),
            sweep=partial(spec.sweep, self),
            clock=self.clock,
            max_sleep=spec.max_sleep(self.settings),
        )

    def _committed(self) -> None:
        """Events were committed (the relay has work), or a deadline may have come closer."""
        self.relay.wake()
        for scheduler in self.schedulers.values():
            scheduler.poke()

    @property
    def name(self) -> str:
        return self.definition.name

    def uow(self, principal: Principal | None = None) -> UnitOfWork:
        """A new unit of work on a new session, done for ``principal`` (the audit log's actor; None:
        the request being served, if any, else the system); commits with events wake the relay and
        the schedulers."""
        d = self.definition
        return UnitOfWork(
            self.db.sessions(),
            d.tables,
            source=d.source,
            topic=d.topic,
            clock=self.clock,
            on_commit=self._committed,
            principal=principal,
        )

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: its session is on the reader engine (no write lock on
        SQLite, no transaction, read-only connections); committing it writes nothing."""
        d = self.definition
        return UnitOfWork(self.db.read_sessions(), d.tables, source=d.source, topic=d.topic, clock=self.clock)

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
            lanes=1 if self.db.dialect == "sqlite" else self.settings.consumer_lanes,
        )

    async def migrate(self) -> None:
        d = self.definition
        await asyncio.to_thread(migrations.upgrade, d.name, d.migrations, self.db.url)


async def get_context(request: Request) -> ServiceContext:
    """The service the request is for (a coroutine: FastAPI runs a plain function in a thread)."""
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]
SAFE_METHODS = frozenset({"GET", "HEAD"})


async def get_uow(request: Request, context: Context, principal: CurrentPrincipal) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work, done for its principal (the audit log's actor). A GET or HEAD only
    reads (safe methods, RFC 9110): its unit of work is a :meth:`ServiceContext.reader`, which never
    waits for a writer."""
    async with context.reader() if request.method in SAFE_METHODS else context.uow(principal) as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]
