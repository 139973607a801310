"""GraphQL types and resolvers of the notifications service."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types
from strawberry.types import Info

from services.notifications import service
from services.notifications.channels.graphql import DeliveryQuery
from services.notifications.directory.graphql import ContactMutation, ContactQuery
from services.notifications.letters.graphql import LettersMutation, LettersQuery
from services.notifications.webhooks.graphql import WebhookMutation, WebhookQuery
from shared.graphql import GraphQLContext, page_size, read_scoped, service_status_field
from shared.paging import MAX_PAGE
from shared.units import UnitRecord


@strawberry.type(description="A unit letters and reminders can be addressed to")
class RecipientType:
    unit_code: str
    name: str
    level: str
    parent_code: str | None

    @classmethod
    def of(cls, unit: UnitRecord) -> RecipientType:
        return cls(unit_code=unit.code, name=unit.name, level=unit.level, parent_code=unit.parent_code)


@strawberry.type
class Query(LettersQuery, DeliveryQuery, WebhookQuery, ContactQuery):
    notifications_status = service_status_field("notifications")

    @strawberry.field(description="The recipient directory, by unit code: ``first`` units after the code ``after``")
    async def recipients(
        self, info: Info[GraphQLContext, None], first: int = 100, after: str | None = None
    ) -> list[RecipientType]:
        limit = page_size(first, MAX_PAGE)
        found = await read_scoped(
            info,
            "notifications",
            lambda uow, scope: service.list_recipients(uow.session, after=after, limit=limit, scope=scope),
        )
        return [RecipientType.of(u) for u in found]


Mutation = merge_types("NotificationsMutation", (LettersMutation, WebhookMutation, ContactMutation))
