"""The port every bus adapter implements."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable


class Message(NamedTuple):
    """One record on a topic. ``key`` is the aggregate id, so one aggregate's events stay in order.

    A named tuple: immutable, and the relay builds thousands a second (half the cost of a frozen
    dataclass)."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None
    offset: int | None = None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode()
        return None


@dataclass(frozen=True)
class DeadLetter:
    """A message a consumer gave up on, with why."""

    consumer: str
    message: Message
    error: str
    attempts: int
    failed_at: datetime
    ref: str = field(default="")  # where the bus keeps it (row id, topic/partition/offset)


# A consumer handles a batch of one topic's messages in order. Raising means "not handled:
# deliver again later" (an infrastructure fault); a message the consumer cannot handle is its
# own business to dead-letter.
BatchHandler = Callable[[Sequence[Message]], Awaitable[None]]

IN_FLIGHT = 2
"""Batches a bus may have handed a :class:`Pipelined` handler before the first of them is done."""


@runtime_checkable
class Pipelined(Protocol):
    """A handler that may be given its next batch before the last is done, and keeps their order
    itself (:meth:`shared.consumer.EventConsumer.submit`). Its future raising means "not handled",
    as a :data:`BatchHandler` raising does."""

    def submit(self, messages: Sequence[Message]) -> asyncio.Future[None]: ...


class EventBus(ABC):
    """Publishes messages and feeds subscribed consumer groups."""

    @abstractmethod
    def subscribe(self, group: str, topics: Sequence[str], handler: BatchHandler) -> None:
        """Register a consumer group before :meth:`start`."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def publish(self, messages: Sequence[Message]) -> None:
        """Return once the bus has durably taken all messages; raise if it has not."""

    @abstractmethod
    async def dead_letter(self, letter: DeadLetter) -> None:
        """Set a message aside after bounded retries, with its error and origin."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the bus is reachable."""

    def lag(self) -> dict[tuple[str, str, int], int]:
        """Messages not yet consumed, per (group, topic, partition)."""
        return {}
