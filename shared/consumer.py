"""Idempotent event consumers: effects and the (consumer, event id) record commit together."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from shared.bus.base import DeadLetter, EventBus, Message
from shared.clock import Clock
from shared.db import upsert_rows
from shared.events import CloudEvent
from shared.logs import event_id_var
from shared.metrics import DEAD_LETTERS, EVENTS_CONSUMED
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, CloudEvent], Awaitable[None]]
UowFactory = Callable[[], UnitOfWork]

# Faults of the infrastructure, not of the message: never dead-lettered, the bus delivers again.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


ANY_TYPE = "*"

LANE_EVENTS = 200
"""The fewest events worth a lane of their own: a smaller part costs more in its own claim and
commit than it gains by overlapping."""


class EarlierPartFailed(Exception):
    """A part of a batch did not run: an earlier part it had to follow failed (both come again)."""


async def _all_of(tasks: Sequence[asyncio.Future[None]]) -> None:
    """Wait for every task, then raise the first failure."""
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


@dataclass(frozen=True)
class Subscription:
    """The event types a consumer handles on one producer's topic (the handler table).

    A consumer may hold several subscriptions to one topic, even for one type: every handler of
    an event runs, in the order of the subscriptions, in the same transaction. A handler under
    ``ANY_TYPE`` (``"*"``) gets every event of the topic (the webhooks fan-out).

    ``keyed``: each handler reads and writes only its message key's own state, and rows that
    several keys share only by commutative additions written at commit in key order (scoring's
    dossier ledger). A batch of a topic whose subscriptions are all keyed may then be applied as
    several transactions at once, one per lane of keys (:class:`EventConsumer`).

    ``lane_by``: what the keys that share rows have in common (scoring: the dossier's unit, whose
    counters its dossiers add to), read from a key's first event in the batch. Keys alike go to
    one lane, so lanes seldom write the same row and wait for each other's locks; without it,
    keys are spread by the key alone.
    """

    topic: str
    handlers: Mapping[str, Handler]
    keyed: bool = False
    lane_by: Callable[[CloudEvent], str] | None = None


class EventConsumer:
    """Handles batches from the bus; each event's effect happens once per consumer.

    A batch is first tried in one transaction; if that fails, each event is retried alone
    (``max_attempts``, doubling backoff) and, if it still fails, dead-lettered so the rest
    of the partition goes on.

    With ``lanes`` > 1, a large batch of a keyed topic (:class:`Subscription`) is split by message
    key into up to ``lanes`` parts applied concurrently, each in its own transaction on its own
    connection, so one part's Python work overlaps another's time in the database. One key's events
    stay in one part, in order; the call returns once every part has committed or failed as above.

    A bus that fetches ahead hands batches on with :meth:`submit` instead, before the last one is
    done; order across them is then kept part by part.
    """

    def __init__(
        self,
        name: str,
        subscriptions: Sequence[Subscription],
        *,
        uow_factory: UowFactory,
        processed: Table,
        bus: EventBus,
        clock: Clock,
        max_attempts: int = 5,
        backoff: float = 0.2,
        lanes: int = 1,
    ) -> None:
        self.name = name
        self.topics = list(dict.fromkeys(s.topic for s in subscriptions))
        self._handlers: dict[tuple[str, str], list[Handler]] = {}
        for s in subscriptions:
            for t, h in s.handlers.items():
                self._handlers.setdefault((s.topic, t), []).append(h)
        self._resolved: dict[tuple[str, str], list[Handler]] = {}  # _handlers_of, once per (topic, type)
        self._laned = {t for t in self.topics if all(s.keyed for s in subscriptions if s.topic == t)}
        self._lane_by = {s.topic: s.lane_by for s in subscriptions if s.lane_by is not None}
        self._lanes = lanes
        self._running: set[asyncio.Task[None]] = set()  # parts submitted (in turn) and not yet done
        self._last_of_key: dict[str, asyncio.Task[None]] = {}  # the last such part holding a key
        self._barrier: asyncio.Task[None] | None = None  # the last such part of a topic not keyed
        self._uow_factory = uow_factory
        self._processed = processed
        column = processed.c.event_id  # the claim's conflict clause, one object (upsert_rows reuses its statement)
        self._claimed: Callable[[Any], Any] = lambda i: i.on_conflict_do_nothing().returning(column)
        self._bus = bus
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff = backoff

    async def __call__(self, messages: Sequence[Message]) -> None:
        """Handle a batch at once, beside any other being handled: the in-process bus, whose relays
        (one per producer) each hand on their own topic's batches in turn."""
        await self._dispatch(messages, in_turn=False)

    def submit(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        """Start handling a batch in turn after those submitted before it; the future is done once
        every part of it has committed or failed as above (a failure is raised only then).

        A bus may submit the next batch before this one is done (:data:`shared.bus.base.IN_FLIGHT`),
        so that its decoding and its first lanes overlap this batch's last writes. Order is kept
        across submitted batches: a part starts only once every earlier part holding one of its keys
        is done, and does not run if one of those failed (the bus delivers both again). A batch of a
        topic that is not keyed waits for every earlier part, and every later part waits for it."""
        return self._dispatch(messages, in_turn=True)

    def _dispatch(self, messages: Sequence[Message], *, in_turn: bool) -> asyncio.Future[None]:
        tasks: list[asyncio.Future[None]] = []
        work: list[tuple[Message, CloudEvent]] = []
        unreadable: list[tuple[Message, str]] = []
        for message in messages:
            try:
                event = CloudEvent.from_json(message.value)
            except ValueError as exc:
                unreadable.append((message, f"unreadable event: {exc}"))
                continue
            if self._handlers_of(message.topic, event.type):
                work.append((message, event))
        if unreadable:
            tasks.append(asyncio.ensure_future(self._give_up_all(unreadable)))
        if work:
            keyed = {m.topic for m, _ in work} <= self._laned
            parts = self._parts(work, keyed=keyed)
            if in_turn:
                tasks += [self._start(part, keyed=keyed) for part in parts]
            else:
                tasks += [asyncio.ensure_future(self._apply_batch(part)) for part in parts]
        return asyncio.ensure_future(_all_of(tasks))

    def _parts(self, work: list[tuple[Message, CloudEvent]], *, keyed: bool) -> list[list[tuple[Message, CloudEvent]]]:
        lanes = min(self._lanes, len(work) // LANE_EVENTS) if keyed else 1
        if lanes < 2:
            return [work]
        parts: list[list[tuple[Message, CloudEvent]]] = [[] for _ in range(lanes)]
        lane_of: dict[str, int] = {}  # a key's lane: where its first event in the batch took it
        for message, event in work:
            lane = lane_of.get(message.key)
            if lane is None:
                group = self._lane_by.get(message.topic)
                lane = lane_of[message.key] = hash(group(event) if group else message.key) % lanes
            parts[lane].append((message, event))
        return [part for part in parts if part]

    def _start(self, work: list[tuple[Message, CloudEvent]], *, keyed: bool) -> asyncio.Task[None]:
        """Apply a part once the earlier parts it must follow are done."""
        keys = list(dict.fromkeys(m.key for m, _ in work)) if keyed else []
        if keyed:
            earlier = {self._last_of_key[k] for k in keys if k in self._last_of_key}
            if self._barrier is not None:
                earlier.add(self._barrier)
        else:
            earlier = set(self._running)
        task = asyncio.create_task(self._apply_after([t for t in earlier if not t.done()], work))
        self._running.add(task)
        if keyed:
            for key in keys:
                self._last_of_key[key] = task
        else:
            self._barrier = task
        task.add_done_callback(lambda done: self._forget(done, keys))
        return task

    def _forget(self, task: asyncio.Task[None], keys: list[str]) -> None:
        self._running.discard(task)
        if self._barrier is task:
            self._barrier = None
        for key in keys:
            if self._last_of_key.get(key) is task:
                del self._last_of_key[key]

    async def _apply_after(self, earlier: list[asyncio.Task[None]], work: list[tuple[Message, CloudEvent]]) -> None:
        if earlier:
            await asyncio.wait(earlier)
            if any(t.cancelled() or t.exception() is not None for t in earlier):
                raise EarlierPartFailed(f"consumer {self.name}: an earlier batch holding these keys failed")
        await self._apply_batch(work)

    async def _apply_batch(self, work: Sequence[tuple[Message, CloudEvent]]) -> None:
        try:
            await self._apply(work)
            return
        except TRANSIENT:
            raise
        except Exception:
            log.info("consumer %s: batch of %d failed, retrying one by one", self.name, len(work))
        for item in work:
            await self._apply_alone(*item)

    async def _apply_alone(self, message: Message, event: CloudEvent) -> None:
        """Retry one event with doubling backoff; a database fault goes up (the bus delivers again
        later), anything else is dead-lettered once the attempts are spent."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._backoff),
            retry=retry_if_not_exception_type(TRANSIENT),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._apply([(message, event)])
        except TRANSIENT:
            raise
        except Exception as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()
            await self._give_up(message, error, attempts=self._max_attempts)

    async def _apply(self, work: Sequence[tuple[Message, CloudEvent]]) -> None:
        async with self._uow_factory() as uow:
            fresh = await self._claim(uow, [event.id for _, event in work])
            applied: list[str] = []
            for message, event in work:
                if event.id not in fresh:
                    continue
                fresh.discard(event.id)  # a second copy in the same batch is a duplicate too
                applied.append(event.type)
                token = event_id_var.set(event.id)
                try:
                    for handler in self._handlers_of(message.topic, event.type):
                        await handler(uow, event)
                finally:
                    event_id_var.reset(token)
            await uow.commit()
        for type_, count in Counter(applied).items():
            EVENTS_CONSUMED.labels(consumer=self.name, type=type_).inc(count)

    def _handlers_of(self, topic: str, type_: str) -> list[Handler]:
        found = self._resolved.get((topic, type_))
        if found is None:
            found = self._resolved[topic, type_] = self._handlers.get((topic, type_), []) + self._handlers.get(
                (topic, ANY_TYPE), []
            )
        return found

    async def _claim(self, uow: UnitOfWork, event_ids: list[str]) -> set[str]:
        """Record the events as processed; returns those not seen before."""
        rows = [{"event_id": e} for e in dict.fromkeys(event_ids)]
        defaults = {"consumer": self.name, "processed_at": uow.clock.now()}  # one copy, not one per event
        result = await upsert_rows(uow.session, self._processed, rows, self._claimed, defaults=defaults)
        return set(result.scalars())

    async def _give_up_all(self, unreadable: list[tuple[Message, str]]) -> None:
        for message, error in unreadable:
            await self._give_up(message, error, attempts=1)

    async def _give_up(self, message: Message, error: str, *, attempts: int) -> None:
        log.error("consumer %s dead-letters %s/%s: %s", self.name, message.topic, message.key, error)
        DEAD_LETTERS.labels(consumer=self.name, topic=message.topic).inc()
        await self._bus.dead_letter(
            DeadLetter(consumer=self.name, message=message, error=error, attempts=attempts, failed_at=self._clock.now())
        )
