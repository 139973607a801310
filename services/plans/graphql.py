"""GraphQL types and resolvers of the plans service."""

from __future__ import annotations

from datetime import date

import strawberry
from pydantic import ValidationError
from strawberry.types import Info

from services.plans import service
from services.plans.models import Unit
from services.plans.schemas import UnitIn, UnitLevel
from shared.graphql import GraphQLContext, domain_error, invalid_input, service_status_field
from shared.problems import DomainError

strawberry.enum(UnitLevel)


@strawberry.type(description="An administrative unit")
class UnitType:
    code: str
    name: str
    aliases: list[str]
    level: UnitLevel
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    version: int

    @classmethod
    def of(cls, unit: Unit) -> UnitType:
        return cls(
            code=unit.code,
            name=unit.name,
            aliases=list(unit.aliases),
            level=UnitLevel(unit.level),
            parent_code=unit.parent_code,
            valid_from=unit.valid_from,
            valid_to=unit.valid_to,
            version=unit.version,
        )


@strawberry.input
class UnitInput:
    name: str
    level: UnitLevel
    aliases: list[str] = strawberry.field(default_factory=list)
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@strawberry.type
class Query:
    plans_status = service_status_field("plans")

    @strawberry.field(description="Units, optionally of one level or under one parent")
    async def units(
        self, info: Info[GraphQLContext, None], level: UnitLevel | None = None, parent_code: str | None = None
    ) -> list[UnitType]:
        async with info.context.service("plans").uow() as uow:
            units = await service.list_units(uow.session, level=level, parent_code=parent_code)
        return [UnitType.of(u) for u in units]

    @strawberry.field(description="One unit by its code, or null")
    async def unit(self, info: Info[GraphQLContext, None], code: str) -> UnitType | None:
        async with info.context.service("plans").uow() as uow:
            found = await uow.session.get(Unit, code)
        return UnitType.of(found) if found else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register or change a unit")
    async def upsert_unit(self, info: Info[GraphQLContext, None], code: str, input: UnitInput) -> UnitType:
        try:
            data = UnitIn.model_validate(strawberry.asdict(input))
        except ValidationError as exc:
            raise invalid_input(exc) from exc
        async with info.context.service("plans").uow() as uow:
            try:
                unit = await service.upsert_unit(uow, code, data)
            except DomainError as exc:
                raise domain_error(exc) from exc
            await uow.commit()
        return UnitType.of(unit)
