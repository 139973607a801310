"""GraphQL fields of the API keys (admin only: services/plans/access.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from services.plans import keys
from shared.graphql import GraphQLContext, checked_input, in_transaction
from shared.graphql import read as shared_read


@strawberry.type(description="An API key (never the key itself, only its prefix)")
class ApiKeyType:
    id: str
    prefix: str
    name: str
    role: str
    unit: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@strawberry.type(description="A key just made: `key` is shown this once")
class ApiKeyMadeType(ApiKeyType):
    key: str


async def api_keys(info: Info[GraphQLContext, None]) -> list[ApiKeyType]:
    listed = await shared_read(info, "plans", keys.listed)
    return [ApiKeyType(**k.model_dump()) for k in listed]


async def create_api_key(
    info: Info[GraphQLContext, None],
    role: str,
    unit: str | None = None,
    expires_at: datetime | None = None,
    name: str = "",
) -> ApiKeyMadeType:
    request = checked_input(keys.ApiKeyIn, {"role": role, "unit": unit, "expires_at": expires_at, "name": name})
    made = await in_transaction(info, "plans", lambda uow: keys.create(uow, request))
    return ApiKeyMadeType(**made.model_dump())


async def revoke_api_key(info: Info[GraphQLContext, None], id: str) -> ApiKeyType:
    revoked = await in_transaction(info, "plans", lambda uow: keys.revoke(uow, id))
    return ApiKeyType(**revoked.model_dump())


API_KEYS = strawberry.field(resolver=api_keys, description="Every API key")
CREATE_API_KEY = strawberry.mutation(
    resolver=create_api_key, description="Make an API key; the answer holds the key this once"
)
REVOKE_API_KEY = strawberry.mutation(resolver=revoke_api_key, description="Revoke an API key (by id or prefix)")
