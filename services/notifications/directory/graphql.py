"""GraphQL of the people and addresses of a unit."""

from __future__ import annotations

import strawberry
from strawberry.experimental import pydantic as from_model
from strawberry.types import Info

from services.notifications.directory import service
from services.notifications.directory.schemas import ContactIn, ContactOut
from shared.graphql import GraphQLContext, checked_input, in_scoped_transaction, read_scoped
from shared.scope import Scope
from shared.uow import UnitOfWork


@from_model.type(model=ContactOut, all_fields=True, description="A person of a unit and their addresses")
class ContactType:
    pass


@strawberry.input(description="A person of a unit (phone: a Vietnamese mobile number); checked as REST's body")
class ContactInput:
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    zalo_phone: str | None = None
    channels: list[str] | None = strawberry.field(default=None, description="email, sms, zalo")
    digest: bool = False


@strawberry.type
class ContactQuery:
    @strawberry.field(description="The people of a unit")
    async def contacts(self, info: Info[GraphQLContext, None], unit_code: str) -> list[ContactType]:
        async def run(uow: UnitOfWork, scope: Scope) -> list[ContactType]:
            rows = await service.contacts_of(uow.session, unit_code, scope=scope)
            return [ContactType.from_pydantic(ContactOut.shown(c, scope)) for c in rows]

        return await read_scoped(info, "notifications", run)


@strawberry.type
class ContactMutation:
    @strawberry.mutation(description="Add a person to a unit")
    async def add_contact(self, info: Info[GraphQLContext, None], unit_code: str, input: ContactInput) -> ContactType:
        body = checked_input(ContactIn, {k: v for k, v in strawberry.asdict(input).items() if v is not None})

        async def run(uow: UnitOfWork, scope: Scope) -> ContactType:
            contact = await service.add_contact(uow, unit_code, body, scope)
            return ContactType.from_pydantic(ContactOut.shown(contact, scope))

        return await in_scoped_transaction(info, "notifications", run)

    @strawberry.mutation(description="Replace a person's details")
    async def replace_contact(
        self, info: Info[GraphQLContext, None], unit_code: str, contact_id: int, input: ContactInput
    ) -> ContactType:
        body = checked_input(ContactIn, {k: v for k, v in strawberry.asdict(input).items() if v is not None})

        async def run(uow: UnitOfWork, scope: Scope) -> ContactType:
            contact = await service.replace_contact(uow, unit_code, contact_id, body, scope)
            return ContactType.from_pydantic(ContactOut.shown(contact, scope))

        return await in_scoped_transaction(info, "notifications", run)

    @strawberry.mutation(description="Remove a person from a unit")
    async def remove_contact(self, info: Info[GraphQLContext, None], unit_code: str, contact_id: int) -> bool:
        await in_scoped_transaction(
            info, "notifications", lambda uow, scope: service.remove_contact(uow, unit_code, contact_id, scope)
        )
        return True
