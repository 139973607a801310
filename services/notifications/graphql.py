"""GraphQL types and resolvers of the notifications service."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from services.notifications import service
from services.notifications.letters.graphql import LettersMutation, LettersQuery
from services.notifications.models import Recipient
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
class Query(LettersQuery):
    notifications_status = service_status_field("notifications")

    @strawberry.field(description="The recipient directory")
    async def recipients(self, info: Info[GraphQLContext, None]) -> list[RecipientType]:
        async with info.context.service("notifications").uow() as uow:
            return [RecipientType.of(r) for r in await service.list_recipients(uow.session)]


@strawberry.type
class Mutation(LettersMutation):
    pass
