"""Batches handed to a consumer as the Kafka bus hands them on (``shared.bus.kafka``)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Sequence

from shared.bus.base import IN_FLIGHT, Message
from shared.consumer import EventConsumer


async def submit_in_turn(consumer: EventConsumer, batches: Iterable[Sequence[Message]]) -> None:
    """Each batch submitted while the ones before it are still applied, ``IN_FLIGHT`` at most; the
    first failure is raised once it is the oldest."""
    in_flight: deque[asyncio.Future[None]] = deque()
    for batch in batches:
        if len(in_flight) == IN_FLIGHT:
            await in_flight.popleft()
        in_flight.append(consumer.submit(batch))
    for done in in_flight:
        await done
