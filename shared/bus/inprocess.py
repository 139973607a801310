"""The in-process bus of embedded mode: the outbox relay hands batches straight to consumers.

Delivery is synchronous: :meth:`publish` returns only after every subscribed group has handled
the batch (or set it aside as a dead letter), so the relay marks events published only once
they are consumed, and a crash in between redelivers them (consumers are idempotent).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from shared.bus.base import BatchHandler, DeadLetter, EventBus, Message

DeadLetterStore = Callable[[DeadLetter], Awaitable[None]]


class InProcessBus(EventBus):
    def __init__(self) -> None:
        self._subscribers: dict[str, list[tuple[str, BatchHandler]]] = defaultdict(list)
        self._dead_letter_stores: dict[str, DeadLetterStore] = {}

    def subscribe(self, group: str, topics: Sequence[str], handler: BatchHandler) -> None:
        for topic in topics:
            self._subscribers[topic].append((group, handler))

    def store_dead_letters(self, group: str, store: DeadLetterStore) -> None:
        """Where a group's dead letters go (its own database, in embedded mode)."""
        self._dead_letter_stores[group] = store

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, messages: Sequence[Message]) -> None:
        by_topic: dict[str, list[Message]] = defaultdict(list)
        for message in messages:
            by_topic[message.topic].append(message)
        deliveries = [
            handler(batch) for topic, batch in by_topic.items() for _group, handler in self._subscribers.get(topic, ())
        ]
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]

    async def deliver(self, group: str, messages: Sequence[Message]) -> None:
        """Hand messages to one group only (replaying its dead letters)."""
        for topic in {m.topic for m in messages}:
            for subscribed, handler in self._subscribers.get(topic, ()):
                if subscribed == group:
                    await handler([m for m in messages if m.topic == topic])

    async def dead_letter(self, letter: DeadLetter) -> None:
        store = self._dead_letter_stores.get(letter.consumer)
        if store is None:
            raise RuntimeError(f"no dead-letter store for consumer {letter.consumer}")
        await store(letter)

    async def ping(self) -> bool:
        return True
