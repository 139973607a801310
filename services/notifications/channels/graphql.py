"""GraphQL of the notifications log."""

from __future__ import annotations

import strawberry
from strawberry.experimental import pydantic as from_model
from strawberry.types import Info

from services.notifications.channels import service
from services.notifications.channels.schemas import DeliveryAttemptOut, DeliveryOut
from shared.graphql import GraphQLContext, read_scoped
from shared.scope import Scope
from shared.uow import UnitOfWork


@from_model.type(model=DeliveryOut, all_fields=True, description="A message to one address over e-mail, SMS or Zalo")
class DeliveryType:
    pass


@from_model.type(model=DeliveryAttemptOut, all_fields=True, description="One try of a delivery")
class DeliveryAttemptType:
    pass


@strawberry.type
class DeliveryQuery:
    @strawberry.field(description="The notifications log, newest first (filters as REST's)")
    async def deliveries(
        self,
        info: Info[GraphQLContext, None],
        status: str | None = None,
        channel: str | None = None,
        ref_kind: str | None = None,
        ref_id: str | None = None,
        unit: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[DeliveryType]:
        async def run(uow: UnitOfWork, scope: Scope) -> list[DeliveryType]:
            rows = await service.list_deliveries(
                uow.session,
                status=status,
                channel=channel,
                ref_kind=ref_kind,
                ref_id=ref_id,
                unit_code=unit,
                limit=min(max(limit, 1), 500),
                before=before,
                scope=scope,
            )
            return [DeliveryType.from_pydantic(DeliveryOut.shown(r, scope)) for r in rows]

        return await read_scoped(info, "notifications", run)

    @strawberry.field(description="Every attempt of one delivery")
    async def delivery_attempts(self, info: Info[GraphQLContext, None], delivery_id: int) -> list[DeliveryAttemptType]:
        async def run(uow: UnitOfWork, scope: Scope) -> list[DeliveryAttemptType]:
            rows = await service.attempts_of(uow.session, delivery_id, scope)
            return [DeliveryAttemptType.from_pydantic(DeliveryAttemptOut.shown(a, scope)) for a in rows]

        return await read_scoped(info, "notifications", run)
