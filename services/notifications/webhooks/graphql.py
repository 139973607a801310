"""GraphQL of the webhook endpoints and their deliveries: the REST routes' models and functions."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.experimental import pydantic as from_model
from strawberry.types import Info

from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import service
from services.notifications.webhooks.schemas import AttemptOut, WebhookDeliveryOut, WebhookIn, WebhookOut, WebhookPatch
from shared.auth import ADMIN
from shared.graphql import GraphQLContext, checked_input, in_scoped_transaction, read_scoped

SERVICE = "notifications"


@from_model.type(model=WebhookOut, all_fields=True, description="A webhook endpoint (its secret is never shown again)")
class WebhookEndpointType:
    pass


@from_model.type(model=WebhookDeliveryOut, all_fields=True, description="One message to one endpoint")
class WebhookDeliveryType:
    pass


@from_model.type(model=AttemptOut, all_fields=True, description="One POST of a webhook delivery")
class WebhookAttemptType:
    pass


@strawberry.type(description="A new endpoint and its signing secret, shown this once")
class WebhookCreatedType:
    endpoint: WebhookEndpointType
    secret: str


def _endpoint(endpoint: Any) -> WebhookEndpointType:
    return WebhookEndpointType.from_pydantic(WebhookOut.model_validate(endpoint))


def _delivery(delivery: Any, event_type: str) -> WebhookDeliveryType:
    fields = {name: getattr(delivery, name) for name in WebhookDeliveryOut.model_fields if name != "event_type"}
    return WebhookDeliveryType.from_pydantic(WebhookDeliveryOut(**fields, event_type=event_type))


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Webhook endpoints")
    async def webhook_endpoints(self, info: Info[GraphQLContext, None]) -> list[WebhookEndpointType]:
        found = await read_scoped(info, SERVICE, lambda uow, scope: service.list_endpoints(uow.session, scope))
        return [_endpoint(e) for e in found]

    @strawberry.field(description="An endpoint's deliveries, newest first")
    async def webhook_deliveries(
        self, info: Info[GraphQLContext, None], endpoint_id: str, status: str | None = None, limit: int = 100
    ) -> list[WebhookDeliveryType]:
        rows = await read_scoped(
            info,
            SERVICE,
            lambda uow, scope: service.list_deliveries(
                uow.session, endpoint_id, status=status, limit=min(max(limit, 1), 500), scope=scope
            ),
        )
        return [_delivery(d, t) for d, t in rows]

    @strawberry.field(description="The attempt log of one delivery")
    async def webhook_attempts(
        self, info: Info[GraphQLContext, None], endpoint_id: str, delivery_id: int
    ) -> list[WebhookAttemptType]:
        async def attempts(uow: Any, scope: Any) -> Any:
            await service.get_delivery(uow.session, endpoint_id, delivery_id, scope)
            return await service.attempts_of(uow.session, delivery_id)

        return [
            WebhookAttemptType.from_pydantic(AttemptOut.model_validate(a))
            for a in await read_scoped(info, SERVICE, attempts)
        ]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description='Subscribe an endpoint to event types (["*"]: all); the secret is shown once')
    async def create_webhook(
        self,
        info: Info[GraphQLContext, None],
        url: str,
        event_types: list[str],
        description: str | None = None,
        unit_code: str | None = None,
        personal_data: bool = False,
    ) -> WebhookCreatedType:
        given = {"url": url, "event_types": event_types, "description": description, "unit_code": unit_code}
        body = checked_input(WebhookIn, {**given, "personal_data": personal_data})
        settings = NotificationsSettings.of(info.context.service(SERVICE).settings)
        admin = ADMIN in info.context.principal.roles and info.context.principal.unit is None
        endpoint = await in_scoped_transaction(
            info,
            SERVICE,
            lambda uow, scope: service.create_endpoint(uow, body, settings, scope, may_allow_personal=admin),
        )
        return WebhookCreatedType(endpoint=_endpoint(endpoint), secret=endpoint.secret)

    @strawberry.mutation(description="Change, disable or re-enable an endpoint")
    async def update_webhook(
        self,
        info: Info[GraphQLContext, None],
        id: str,
        url: str | None = None,
        event_types: list[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        personal_data: bool | None = None,
    ) -> WebhookEndpointType:
        given = {
            "url": url,
            "event_types": event_types,
            "description": description,
            "enabled": enabled,
            "personal_data": personal_data,
        }
        patch = checked_input(WebhookPatch, {k: v for k, v in given.items() if v is not None})
        settings = NotificationsSettings.of(info.context.service(SERVICE).settings)
        admin = ADMIN in info.context.principal.roles and info.context.principal.unit is None
        return _endpoint(
            await in_scoped_transaction(
                info,
                SERVICE,
                lambda uow, scope: service.update_endpoint(uow, id, patch, settings, scope, may_allow_personal=admin),
            )
        )

    @strawberry.mutation(description="Remove an endpoint and its deliveries")
    async def delete_webhook(self, info: Info[GraphQLContext, None], id: str) -> bool:
        await in_scoped_transaction(info, SERVICE, lambda uow, scope: service.delete_endpoint(uow, id, scope))
        return True

    @strawberry.mutation(description="A new secret (returned once); the old one signs too for the overlap")
    async def rotate_webhook_secret(self, info: Info[GraphQLContext, None], id: str) -> str:
        settings = NotificationsSettings.of(info.context.service(SERVICE).settings)
        endpoint = await in_scoped_transaction(
            info, SERVICE, lambda uow, scope: service.rotate_secret(uow, id, settings, scope)
        )
        return str(endpoint.secret)

    @strawberry.mutation(description="Send a test ping to an endpoint")
    async def test_webhook(self, info: Info[GraphQLContext, None], id: str) -> WebhookDeliveryType:
        delivery = await in_scoped_transaction(info, SERVICE, lambda uow, scope: service.send_test(uow, id, scope))
        return _delivery(delivery, service.PING_TYPE)

    @strawberry.mutation(description="Send a delivery's message again with a fresh retry schedule")
    async def redeliver_webhook(
        self, info: Info[GraphQLContext, None], endpoint_id: str, delivery_id: int
    ) -> WebhookDeliveryType:
        async def again(uow: Any, scope: Any) -> Any:
            delivery = await service.redeliver(uow, endpoint_id, delivery_id, scope)
            return delivery, await service.event_type_of(uow.session, delivery)

        return _delivery(*await in_scoped_transaction(info, SERVICE, again))
