"""API keys for tests: written straight into the key tables of a runtime's services, as their
replicas would hold them, and the key rings reloaded, so the apps accept them at once."""

from __future__ import annotations

from collections.abc import Iterable

from shared.api_keys import KeyRecord, new_key, store
from shared.auth import ADMIN
from shared.runtime import Runtime
from shared.service import ServiceContext


async def issue_key(contexts: Runtime | Iterable[ServiceContext], role: str = ADMIN, unit: str | None = None) -> str:
    """A new key of ``role`` (and ``unit`` scope) accepted by every given service; returns the key."""
    services = list(contexts.contexts.values() if isinstance(contexts, Runtime) else contexts)
    key = new_key()
    now = services[0].clock.now()
    record = KeyRecord(
        id=key.id, name=f"test {role}", role=role, unit=unit, key_hash=key.hash, created_at=now, version=1
    )
    for context in services:
        async with context.uow() as uow:
            await store(uow, context.definition.tables.api_keys, record)
            await uow.commit()
        await context.keys.refresh()
    return key.text


async def admin_headers(contexts: Runtime | Iterable[ServiceContext]) -> dict[str, str]:
    """The ``Authorization`` header of a new admin key of these services."""
    return bearer(await issue_key(contexts))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
