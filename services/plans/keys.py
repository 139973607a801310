"""API keys, owned by plans for every service: made, listed and revoked here (admin API and
``cchc keys``), each change published so the other services' replicas follow (shared.api_keys)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field
from sqlalchemy import select

from services.plans.events import ApiKeyCreated, ApiKeyRevoked
from services.plans.models import Unit, kernel
from shared.api_keys import KEY_SCHEME, KeyRecord, new_key, prefix_of, store
from shared.auth import ROLES
from shared.bounds import AgencyId, Instant, Text
from shared.instants import VnInstant
from shared.problems import DomainError, NotFound
from shared.uow import UnitOfWork

Role = Literal["admin", "unit_officer", "viewer", "integration"]
assert set(get_args(Role)) == set(ROLES)


class ApiKeyIn(BaseModel):
    role: Role = Field(description="admin, unit_officer, viewer or integration (docs/security.md, Roles)")
    unit: AgencyId | None = Field(default=None, description="the unit (and its sub-units) the key is limited to")
    expires_at: Instant | None = Field(default=None, description="when the key stops working; never when absent")
    name: Text = Field(default="", max_length=200, description="what the key is for, who holds it")


class ApiKeyOut(BaseModel):
    id: str = Field(description="the key's id (12 hex digits)")
    prefix: str = Field(description="the start of the key, to recognise it")
    name: str = Field(description="what the key is for, who holds it")
    role: str = Field(description="admin, unit_officer, viewer or integration")
    unit: str | None = Field(description="the unit (and its sub-units) the key is limited to; null: the whole system")
    created_at: VnInstant = Field(description="when the key was made")
    expires_at: VnInstant | None = Field(description="when it stops working; null: never")
    revoked_at: VnInstant | None = Field(description="when it was revoked; null: it was not")


class ApiKeyMade(ApiKeyOut):
    key: str = Field(description="the key itself: shown this once, never stored")


class InvalidKeyRequest(DomainError):
    status = 422
    code = "invalid_request"


def to_out(record: KeyRecord) -> ApiKeyOut:
    return ApiKeyOut(**record.model_dump(exclude={"key_hash", "version"}), prefix=prefix_of(record.id))


async def create(uow: UnitOfWork, request: ApiKeyIn) -> ApiKeyMade:
    now = uow.clock.now()
    if request.unit is not None and await uow.session.get(Unit, request.unit) is None:
        raise InvalidKeyRequest(
            "Unknown unit.", errors=[{"field": "unit", "message": "no unit has this code", "type": "unknown_unit"}]
        )
    if request.expires_at is not None and request.expires_at <= now:
        raise InvalidKeyRequest(
            "The key would already have expired.",
            errors=[{"field": "expires_at", "message": "must lie in the future", "type": "expired"}],
        )
    key = new_key()
    record = KeyRecord(
        id=key.id,
        name=request.name,
        role=request.role,
        unit=request.unit,
        key_hash=key.hash,
        created_at=now,
        expires_at=request.expires_at,
        version=1,
    )
    await store(uow, kernel.api_keys, record)
    uow.emit(ApiKeyCreated(**record.model_dump()))
    uow.audit("api_key.created", "api_key", record.id, {"role": record.role, "unit": record.unit, "name": record.name})
    return ApiKeyMade(**to_out(record).model_dump(), key=key.text)


async def revoke(uow: UnitOfWork, key_id: str) -> ApiKeyOut:
    """Revoke a key (by id or prefix); revoking a revoked key changes nothing."""
    record = await get(uow, key_id)
    if record.revoked_at is None:
        record = record.model_copy(update={"revoked_at": uow.clock.now(), "version": record.version + 1})
        await store(uow, kernel.api_keys, record)
        uow.emit(ApiKeyRevoked(**record.model_dump()))
        uow.audit("api_key.revoked", "api_key", record.id, {"revoked": [False, True]})
    return to_out(record)


async def get(uow: UnitOfWork, key_id: str) -> KeyRecord:
    T = kernel.api_keys
    row = (await uow.session.execute(select(T).where(T.c.id == key_id.removeprefix(KEY_SCHEME)))).mappings().first()
    if row is None:
        raise NotFound("No API key has this id.")
    return KeyRecord.model_validate(dict(row))


async def listed(uow: UnitOfWork) -> list[ApiKeyOut]:
    T = kernel.api_keys
    rows = (await uow.session.execute(select(T).order_by(T.c.created_at, T.c.id))).mappings()
    return [to_out(KeyRecord.model_validate(dict(row))) for row in rows]
