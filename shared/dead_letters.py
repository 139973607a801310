"""Dead letters kept in the consumer's own database (embedded mode, and `cchc dlt`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, insert, select, update

from shared.bus.base import DeadLetter, Message
from shared.db import Database
from shared.events import CloudEvent


class SqlDeadLetters:
    def __init__(self, db: Database, table: Table) -> None:
        self._db = db
        self._table = table

    async def store(self, letter: DeadLetter) -> None:
        message = letter.message
        async with self._db.session() as session, session.begin():
            await session.execute(
                insert(self._table).values(
                    consumer=letter.consumer,
                    topic=message.topic,
                    key=message.key,
                    event_id=_event_id(message.value),
                    payload=message.value.decode(errors="replace"),
                    error=letter.error,
                    attempts=letter.attempts,
                    failed_at=letter.failed_at,
                )
            )

    async def pending(self) -> list[DeadLetter]:
        """Dead letters not replayed yet, oldest first."""
        t = self._table
        async with self._db.session() as session:
            rows = (await session.execute(select(t).where(t.c.replayed_at.is_(None)).order_by(t.c.id))).all()
        return [
            DeadLetter(
                consumer=r.consumer,
                message=Message(topic=r.topic, key=r.key or "", value=r.payload.encode()),
                error=r.error,
                attempts=r.attempts,
                failed_at=r.failed_at,
                ref=str(r.id),
            )
            for r in rows
        ]

    async def mark_replayed(self, ref: str, at: datetime) -> None:
        async with self._db.session() as session, session.begin():
            await session.execute(update(self._table).where(self._table.c.id == int(ref)).values(replayed_at=at))


def _event_id(value: bytes) -> str | None:
    """The CloudEvent id of a dead letter, when it is readable at all."""
    try:
        return CloudEvent.from_json(value).id
    except ValueError:
        return None
