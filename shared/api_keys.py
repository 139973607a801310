"""API keys: their table (in every service's database), the events that replicate it, and the
in-memory key ring each process authenticates from.

``plans`` owns the keys (:data:`KEYS_OWNER`): its ``api_keys`` table is the original, written by
the admin API and by ``cchc keys``, each change with an ``api_key.created`` / ``api_key.revoked``
event in the same transaction (the outbox). Every other service keeps a replica from those
events (:func:`replica_handlers`, subscribed by the kernel). A process never reads a key from the
database per request: its :class:`KeyRing` holds the valid keys by hash and reloads them when
the table's fingerprint (row count and sum of versions) changes, checked every
``auth_key_refresh_interval`` seconds.

A key is ``cchc_<id>_<secret>``: ``cchc_<id>`` is the visible prefix, the secret 256 random
bits. Only the SHA-256 of the whole key is stored: the key has far too much entropy to be found
from its hash, so a slow or keyed hash would add nothing (docs/security.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, func, select
from sqlalchemy.engine import RowMapping

from shared.auth import Principal
from shared.clock import Clock
from shared.consumer import Handler
from shared.db import Database, upsert
from shared.events import CloudEvent
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

KEYS_OWNER = "plans"
KEY_CREATED = "vn.cchc.api_key.created.v1"
KEY_REVOKED = "vn.cchc.api_key.revoked.v1"
KEY_SCHEME = "cchc_"
INTERNAL_EVENT_TYPES = frozenset({KEY_CREATED, KEY_REVOKED})  # for the services' replicas only: never to webhooks


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``text`` is shown once and never stored."""

    id: str
    text: str

    @property
    def hash(self) -> str:
        return key_hash(self.text)


SECRET_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 43  # 43 base-62 characters carry 256 bits


def new_key() -> NewKey:
    """A fresh key. The secret is alphanumeric, so ``_`` only ever separates the key's parts and a
    double click selects the whole key."""
    key_id = secrets.token_hex(6)
    secret = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    return NewKey(key_id, f"{KEY_SCHEME}{key_id}_{secret}")


def key_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def prefix_of(key_id: str) -> str:
    """What identifies a key in lists and logs: the start of the key itself."""
    return f"{KEY_SCHEME}{key_id}"


class KeyRecord(BaseModel):
    """A row of ``api_keys``, and the payload of both key events (the hash, never the key)."""

    id: str
    name: str
    role: str
    unit: str | None = None
    key_hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    version: int

    def principal(self) -> Principal:
        return Principal(subject=f"key:{self.id}", roles=frozenset({self.role}), unit=self.unit, key_id=self.id)


async def store(uow: UnitOfWork, table: Table, record: KeyRecord) -> None:
    """Write ``record`` unless the table already holds this version of the key or a later one."""
    statement = upsert(uow.session, table).values(**record.model_dump())
    columns = ("name", "role", "unit", "key_hash", "created_at", "expires_at", "revoked_at", "version")
    statement = statement.on_conflict_do_update(
        index_elements=["id"],
        set_={c: statement.excluded[c] for c in columns},
        where=table.c.version < statement.excluded.version,
    )
    await uow.session.execute(statement)


def replica_handlers(table: Table) -> dict[str, Handler]:
    """The handlers that keep a replica of the owner's keys (both events carry the whole row)."""

    async def apply(uow: UnitOfWork, event: CloudEvent) -> None:
        await store(uow, table, event.data_as(KeyRecord))

    return {KEY_CREATED: apply, KEY_REVOKED: apply}


@dataclass(frozen=True)
class _Entry:
    key_hash: str
    expires_at: datetime | None
    principal: Principal


class KeyRing:
    """The valid (unrevoked) keys of one database, in memory, by hash."""

    def __init__(self, db: Database, table: Table, clock: Clock, *, interval: float) -> None:
        self._db = db
        self._table = table
        self._clock = clock
        self._interval = interval
        self._by_hash: Mapping[str, _Entry] = {}
        self._fingerprint: tuple[int, int] | None = None

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a key, or None when it is unknown, revoked or expired.

        The lookup is by the hash of the presented key, so its timing says nothing about any
        stored key; the hashes found are compared once more in constant time."""
        digest = key_hash(token)
        entry = self._by_hash.get(digest)
        if entry is None or not hmac.compare_digest(entry.key_hash, digest):
            return None
        if entry.expires_at is not None and entry.expires_at <= self._clock.now():
            return None
        return entry.principal

    async def refresh(self) -> bool:
        """Reload the keys if the table changed; True when it did. Through the reader engine: on
        SQLite the writing one would take the write lock every second, only to read."""
        T = self._table
        async with self._db.read_sessions() as session:
            count, versions = (
                await session.execute(select(func.count(), func.coalesce(func.sum(T.c.version), 0)))
            ).one()
            fingerprint = (int(count), int(versions))
            if fingerprint == self._fingerprint:
                return False
            rows = (await session.execute(select(T).where(T.c.revoked_at.is_(None)))).mappings().all()
        self._by_hash = {row["key_hash"]: _entry(row) for row in rows}
        self._fingerprint = fingerprint
        return True

    async def run(self) -> None:
        """Refresh forever (a kernel task of every process)."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("could not refresh the API keys; the last ones read stay in force")


def _entry(row: RowMapping | Mapping[str, Any]) -> _Entry:
    record = KeyRecord.model_validate(dict(row))
    return _Entry(key_hash=record.key_hash, expires_at=record.expires_at, principal=record.principal())
