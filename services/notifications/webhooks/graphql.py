"""GraphQL of the webhook endpoints and their deliveries: the REST routes' models and functions."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.experimental import pydantic as from_model
from strawberry.types import Info

from services.notifications.webhooks import service
from services.notifications.webhooks.schemas import AttemptOut, WebhookDeliveryOut, WebhookIn, WebhookOut, WebhookPatch
from shared.graphql import GraphQLContext, checked_input, domain_error, in_transaction
from shared.problems import DomainError

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


async def _read(info: Info[GraphQLContext, None], action: Any) -> Any:
    async with info.context.service(SERVICE).uow() as uow:
        try:
            return await action(uow)
        except DomainError as exc:
            raise domain_error(exc) from exc


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Webhook endpoints")
    async def webhook_endpoints(self, info: Info[GraphQLContext, None]) -> list[WebhookEndpointType]:
        return [_endpoint(e) for e in await _read(info, lambda uow: service.list_endpoints(uow.session))]

    @strawberry.field(description="An endpoint's deliveries, newest first")
    async def webhook_deliveries(
        self, info: Info[GraphQLContext, None], endpoint_id: str, status: str | None = None, limit: int = 100
    ) -> list[WebhookDeliveryType]:
        rows = await _read(
            info,
            lambda uow: service.list_deliveries(uow.session, endpoint_id, status=status, limit=min(max(limit, 1), 500)),
        )
        return [_delivery(d, t) for d, t in rows]

    @strawberry.field(description="The attempt log of one delivery")
    async def webhook_attempts(
        self, info: Info[GraphQLContext, None], endpoint_id: str, delivery_id: int
    ) -> list[WebhookAttemptType]:
        async def attempts(uow: Any) -> Any:
            await service.get_delivery(uow.session, endpoint_id, delivery_id)
            return await service.attempts_of(uow.session, delivery_id)

        return [WebhookAttemptType.from_pydantic(AttemptOut.model_validate(a)) for a in await _read(info, attempts)]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description='Subscribe an endpoint to event types (["*"]: all); the secret is shown once')
    async def create_webhook(
        self, info: Info[GraphQLContext, None], url: str, event_types: list[str], description: str | None = None
    ) -> WebhookCreatedType:
        body = checked_input(WebhookIn, {"url": url, "event_types": event_types, "description": description})
        settings = info.context.service(SERVICE).settings
        endpoint = await in_transaction(info, SERVICE, lambda uow: service.create_endpoint(uow, body, settings))
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
    ) -> WebhookEndpointType:
        given = {"url": url, "event_types": event_types, "description": description, "enabled": enabled}
        patch = checked_input(WebhookPatch, {k: v for k, v in given.items() if v is not None})
        settings = info.context.service(SERVICE).settings
        return _endpoint(
            await in_transaction(info, SERVICE, lambda uow: service.update_endpoint(uow, id, patch, settings))
        )

    @strawberry.mutation(description="Remove an endpoint and its deliveries")
    async def delete_webhook(self, info: Info[GraphQLContext, None], id: str) -> bool:
        await in_transaction(info, SERVICE, lambda uow: service.delete_endpoint(uow, id))
        return True

    @strawberry.mutation(description="A new secret (returned once); the old one signs too for the overlap")
    async def rotate_webhook_secret(self, info: Info[GraphQLContext, None], id: str) -> str:
        settings = info.context.service(SERVICE).settings
        endpoint = await in_transaction(info, SERVICE, lambda uow: service.rotate_secret(uow, id, settings))
        return str(endpoint.secret)

    @strawberry.mutation(description="Send a test ping to an endpoint")
    async def test_webhook(self, info: Info[GraphQLContext, None], id: str) -> WebhookDeliveryType:
        delivery = await in_transaction(info, SERVICE, lambda uow: service.send_test(uow, id))
        return _delivery(delivery, service.PING_TYPE)

    @strawberry.mutation(description="Send a delivery's message again with a fresh retry schedule")
    async def redeliver_webhook(
        self, info: Info[GraphQLContext, None], endpoint_id: str, delivery_id: int
    ) -> WebhookDeliveryType:
        async def again(uow: Any) -> Any:
            delivery = await service.redeliver(uow, endpoint_id, delivery_id)
            return delivery, await service.event_type_of(uow.session, delivery)

        return _delivery(*await in_transaction(info, SERVICE, again))
