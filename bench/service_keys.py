"""What a benchmark needs to call the services now that they authenticate: an admin key written
into a service's database before the service starts (it loads its key ring from there), and the
per-caller rate limit raised out of a load generator's way."""

from __future__ import annotations

from pydantic import SecretStr

from services.catalog import definitions, settings_class
from shared.api_keys import KeyRecord, new_key, store
from shared.auth import ADMIN
from shared.runtime import Runtime

# A load generator is one caller sending thousands of requests a second: not what the limit is for.
UNLIMITED = {"CCHC_LIMITS_RATE_PER_SECOND": "1000000000", "CCHC_LIMITS_RATE_BURST": "1000000000"}


async def admin_key(url: str, service: str = "dossiers") -> str:
    """An admin key written into ``service``'s database at ``url`` (migrated first); the key itself."""
    settings = settings_class([service]).model_validate({f"{service}_database_url": SecretStr(url)})
    runtime = Runtime(definitions([service]), settings)
    context = runtime[service]
    try:
        await context.migrate()
        key = new_key()
        now = context.clock.now()
        record = KeyRecord(id=key.id, name="bench", role=ADMIN, key_hash=key.hash, created_at=now, version=1)
        async with context.uow() as uow:
            await store(uow, context.definition.tables.api_keys, record)
            await uow.commit()
        return key.text
    finally:
        await runtime.stop()


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}
