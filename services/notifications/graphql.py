"""GraphQL types and resolvers of the notifications service."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types
from strawberry.types import Info

from services.notifications import service
from services.notifications.channels.graphql import DeliveryQuery
from services.notifications.directory.graphql import ContactMutation, ContactQuery
from services.notifications.models import Recipient
from services.notifications.webhooks.graphql import WebhookMutation, WebhookQuery
from shared.graphql import GraphQLContext, service_status_field


@strawberry.type(description="A unit letters and reminders can be addressed to")
class RecipientType:
    unit_code: str
    name: str
    level: str
    parent_code: str | None

    @classmethod
    def of(cls, recipient: Recipient) -> RecipientType:
        return cls(
            unit_code=recipient.unit_code,
            name=recipient.name,
            level=recipient.level,
            parent_code=recipient.parent_code,
        )


@strawberry.type
class Query(DeliveryQuery, WebhookQuery, ContactQuery):
    notifications_status = service_status_field("notifications")

    @strawberry.field(description="The recipient directory")
    async def recipients(self, info: Info[GraphQLContext, None]) -> list[RecipientType]:
        async with info.context.service("notifications").uow() as uow:
            return [RecipientType.of(r) for r in await service.list_recipients(uow.session)]


Mutation = merge_types("NotificationsMutation", (WebhookMutation, ContactMutation))
