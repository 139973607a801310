"""Runs a set of services in one process: databases, bus, relays, consumers and workers."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from shared.app_factory import create_root_app
from shared.bus.base import EventBus
from shared.bus.inprocess import InProcessBus
from shared.bus.kafka import KafkaBus
from shared.clock import Clock, SystemClock
from shared.service import ServiceContext, ServiceDefinition
from shared.settings import Settings

log = logging.getLogger(__name__)


def make_bus(settings: Settings, definitions: Sequence[ServiceDefinition]) -> EventBus:
    if settings.bus == "kafka":
        return KafkaBus(settings, topics=[d.topic for d in definitions])
    return InProcessBus()


class Runtime:
    """The services of this process, started and stopped together."""

    def __init__(
        self,
        definitions: Sequence[ServiceDefinition],
        settings: Settings,
        *,
        clock: Clock | None = None,
        bus: EventBus | None = None,
    ) -> None:
        lacking = [d.settings.__name__ for d in definitions if not isinstance(settings, d.settings)]
        if lacking:
            raise TypeError(f"the settings lack {', '.join(lacking)}: build them with shared.settings.compose")
        self.settings = settings
        self.clock = clock or SystemClock()
        self.bus = bus or make_bus(settings, definitions)
        self.contexts = {d.name: ServiceContext(d, settings, self.clock, self.bus) for d in definitions}
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = False

    def __getitem__(self, service: str) -> ServiceContext:
        return self.contexts[service]

    async def migrate(self) -> None:
        for context in self.contexts.values():
            await context.migrate()

    def subscribe(self) -> None:
        """Hand every service's consumer to the bus (once)."""
        if self._subscribed:
            return
        self._subscribed = True
        for context in self.contexts.values():
            consumer = context.consumer()
            if consumer is None:
                continue
            self.bus.subscribe(consumer.name, consumer.topics, consumer)
            if isinstance(self.bus, InProcessBus):
                self.bus.store_dead_letters(consumer.name, context.dead_letters.store)

    async def start(
        self, *, migrate: bool = False, demo: bool = False, relays: bool = True, schedulers: bool = True
    ) -> None:
        """Start the bus, the relays, the workers and (unless a test drives them itself) the deadline schedulers."""
        if migrate:
            await self.migrate()
        self.subscribe()
        await self.bus.start()
        await self._start_key_ring()
        if relays:
            for context in self.contexts.values():
                self._spawn(context.relay.run(), f"relay:{context.name}")
                if context.definition.subscriptions:
                    self._spawn(context.processed_events.run(), f"processed-events:{context.name}")
        if demo:
            for context in self.contexts.values():
                if context.definition.load_demo is not None:
                    await context.definition.load_demo(context)
        for context in self.contexts.values():
            for worker in context.definition.workers:
                self._spawn(worker(context), f"worker:{context.name}:{worker.__name__}")
            for scheduler in context.schedulers.values() if schedulers else ():
                self._spawn(scheduler.run(), f"scheduler:{scheduler.name}")

    async def _start_key_ring(self) -> None:
        """Load the API keys the app authenticates from (the first service's: see
        create_root_app) and keep them fresh."""
        keys = next(iter(self.contexts.values())).keys
        try:
            await keys.refresh()
        except Exception:
            log.exception("could not read the API keys (not migrated yet?); every key is refused until they are")
        self._spawn(keys.run(), "api-keys")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.bus.stop()
        for context in self.contexts.values():
            await context.db.dispose()

    def app(self, *, migrate: bool = False, demo: bool = False) -> FastAPI:
        """The ASGI app serving these services; starting it starts the runtime."""

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start(migrate=migrate, demo=demo)
            freeze_startup_heap()
            try:
                yield
            finally:
                await self.stop()

        return create_root_app(list(self.contexts.values()), lifespan)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(_report_crash)
        self._tasks.append(task)


def freeze_startup_heap() -> None:
    """Take what is alive once a process has started (modules, schemas, settings: most of the
    heap, and it lives as long as the process) out of the garbage collector's full scans, which
    otherwise pause every request they land on for 60-70 ms (docs/performance.md, plans).

    The youngest generation is also collected every 50,000 allocations instead of 700: a batch
    request allocates hundreds of thousands of short-lived objects, and the default spent ~13 µs
    of every ingested dossier in the collector; at 50,000, under 1 µs (docs/performance.md, dossiers)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, *gc.get_threshold()[1:])


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s stopped", task.get_name(), exc_info=task.exception())
