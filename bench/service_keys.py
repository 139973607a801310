"""What a benchmark needs to call the services now that they authenticate: an admin key written
into a service's database before the service starts (it loads its key ring from there), and the
per-caller rate limit raised out of a load generator's way."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr

from services.catalog import definitions, settings_class
from shared.api_keys import KeyRecord, new_key, store
from shared.auth import ADMIN
from shared.runtime import Runtime

# A load generator is one caller sending thousands of requests a second: not what the limit is for.
UNLIMITED = {"CCHC_LIMITS_RATE_PER_SECOND": "1000000000", "CCHC_LIMITS_RATE_BURST": "1000000000"}


async def admin_key(url: str, service: str = "dossiers") -> str:
    """An admin key written into ``service``'s database at ``url`` (migrated first); the key itself."""
    return await shared_admin_key({service: url})


async def shared_admin_key(databases: Mapping[str, str]) -> str:
    """One admin key written into each service's database (service → URL, migrated first), for
    services run as separate processes whose key replicas no bus keeps in step; the key itself."""
    key = new_key()
    for service, url in databases.items():
        settings = settings_class([service]).model_validate({f"{service}_database_url": SecretStr(url)})
        runtime = Runtime(definitions([service]), settings)
        context = runtime[service]
        try:
            await context.migrate()
            now = context.clock.now()
            record = KeyRecord(id=key.id, name="bench", role=ADMIN, key_hash=key.hash, created_at=now, version=1)
            async with context.uow() as uow:
                await store(uow, context.definition.tables.api_keys, record)
                await uow.commit()
        finally:
            await runtime.stop()
    return key.text


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}
