"""GraphQL types and resolvers of the dossiers service.

The types that are a REST model field for field (a status step, a pause, a due change, office
hours) are derived from it, so GraphQL carries what REST does; a dossier flattens its procedure and
applicant. Mutations take their input through the REST body's model and the same functions as the
REST routes: an invalid one is an ``INVALID_INPUT`` error with one entry per field (in Vietnamese
for office hours, as REST answers), a refusal of the domain carries its code (``NOT_FOUND``...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
import strawberry.experimental.pydantic
from pydantic import BaseModel
from strawberry.scalars import JSON

from services.dossiers import office_hours, queries, schemas
from services.dossiers.codes import Timeliness
from services.dossiers.schemas import (
    DossierOut,
    OfficeHoursIn,
    OfficeHoursOut,
    UnitCode,
    in_vietnamese,
)
from shared.graphql import (
    DayOrInstant,
    GraphQLContext,
    checked_input,
    in_scoped_transaction,
    page_size,
    read_scoped,
    service_status_field,
)
from shared.paging import MAX_PAGE
from shared.problems import DomainError
from shared.scope import Scope
from shared.uow import UnitOfWork

TimelinessEnum = strawberry.enum(Timeliness, name="Timeliness")


@strawberry.experimental.pydantic.type(model=schemas.StatusStep, all_fields=True)
class StatusStep:
    pass


@strawberry.experimental.pydantic.type(
    model=schemas.Pause, all_fields=True, description="A supplement request and the due time it moved"
)
class Pause:
    pass


@strawberry.experimental.pydantic.type(model=schemas.LegalTime, all_fields=True, description="A legal processing time")
class LegalTime:
    pass


@strawberry.experimental.pydantic.type(model=schemas.DueChange, all_fields=True)
class DueChange:
    pass


@strawberry.experimental.pydantic.type(
    model=OfficeHoursOut,
    all_fields=True,
    description="The office hours a unit works on every working day, and where they come from",
)
class OfficeHours:
    pass


@strawberry.experimental.pydantic.input(model=OfficeHoursIn, all_fields=True, description="A unit's own office hours")
class OfficeHoursInput:
    pass


@strawberry.type
class Dossier:
    ma_ho_so: str
    origin: str
    status: int
    status_label: str
    unit: str
    agency: str
    procedure_code: str
    procedure_name: str | None
    procedure_field_code: str | None
    procedure_field_name: str | None
    channel: int
    applicant_name: str | None
    applicant_id_number: str | None
    applicant_type: int | None = strawberry.field(
        description="LoaiDoiTuong: 1 citizen, 2 business, 3 state body, 4 other organisation"
    )
    applicant_email: str | None
    applicant_phone: str | None
    applicant_address: str | None
    summary: str | None
    submitted_at: datetime | None
    received_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    timeliness: TimelinessEnum | None  # type: ignore[valid-type]
    on_time: bool | None = strawberry.field(description=DossierOut.model_fields["on_time"].description)
    rule_set: str = strawberry.field(
        description="The rules its deadlines follow: nd61_2018, or nd118_2025 for receipts from 1 July 2025"
    )
    supplement_count: int
    paid_online: int | None
    digitised: int | None
    status_history: list[StatusStep]
    pauses: list[Pause]
    due_history: list[DueChange] = strawberry.field(
        description="Each due time it was given and why; the initial one of a dossier received here carries its legal time"
    )
    apology: JSON | None = strawberry.field(
        description="The apology letter recorded with its new date, and the due time before it"
    )
    apology_due_at: datetime | None = strawberry.field(
        description=DossierOut.model_fields["apology_due_at"].description
    )
    documents: list[JSON]
    fees: list[JSON]
    result_papers: list[JSON]
    extra: JSON = strawberry.field(
        description="Fields of the provincial record this service does not read, kept as received"
    )
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, d: DossierOut) -> Dossier:
        """The REST dossier, field for field: its procedure and applicant flattened (``procedure_code``,
        ``applicant_name``...), its lists as their GraphQL types."""
        values: dict[str, Any] = dict(d)
        for group in ("procedure", "applicant"):
            values.update({f"{group}_{key}": value for key, value in values.pop(group).items()})
        values["status_history"] = [StatusStep.from_pydantic(s) for s in d.status_history]
        values["pauses"] = [Pause.from_pydantic(p) for p in d.pauses]
        values["due_history"] = [DueChange.from_pydantic(c) for c in d.due_history]
        values["apology"] = JSON(d.apology.model_dump(mode="json")) if d.apology else None
        for name in ("documents", "fees", "result_papers"):
            values[name] = [JSON(item) for item in values[name]]
        values["extra"] = JSON(d.extra)
        return cls(**values)


@strawberry.type
class DossierConnection:
    items: list[Dossier]
    next_cursor: str | None


@strawberry.input
class DossierFilterInput:
    unit: str | None = None
    status: list[int] | None = None
    timeliness: list[TimelinessEnum] | None = None  # type: ignore[valid-type]
    procedure: str | None = None
    channel: int | None = None
    received_from: DayOrInstant | None = None
    received_to: DayOrInstant | None = None
    due_from: DayOrInstant | None = None
    due_to: DayOrInstant | None = None
    apology_due: str | None = strawberry.field(default=None, description=schemas.APOLOGY_DUE)
    apology_due_before: str | None = strawberry.field(default=None, description=schemas.APOLOGY_DUE_BEFORE)


def _filter(where: DossierFilterInput | None) -> queries.DossierFilter:
    """The filter, checked by the REST query's bounds (an ``INVALID_INPUT`` error naming the field)."""
    values: dict[str, Any] = vars(where) if where else {}
    return queries.DossierFilter(**dict(checked_input(schemas.DossierFilterIn, values)))


class _UnitArgument(BaseModel):
    """A unit argument, checked as the REST path is."""

    unit: UnitCode


class _UnitHoursArguments(OfficeHoursIn):
    """setOfficeHours's arguments: the REST body and path in one model, so all their errors come at once."""

    unit: UnitCode


@strawberry.type
class Query:
    dossiers_status = service_status_field("dossiers")

    @strawberry.field(description="One dossier by MaHoSo, with its status history and pauses")
    async def dossier(self, info: strawberry.Info[GraphQLContext, None], ma_ho_so: str) -> Dossier | None:
        async def one(uow: UnitOfWork, scope: Scope) -> Dossier | None:
            try:
                return Dossier.of(await queries.get_dossier(info.context.service("dossiers").db, ma_ho_so, scope))
            except DomainError as exc:
                if exc.status == 404:
                    return None
                raise

        return await read_scoped(info, "dossiers", one)

    @strawberry.field(description="Dossiers by unit (sub-units included), status, timeliness...; paged by cursor")
    async def dossiers(
        self,
        info: strawberry.Info[GraphQLContext, None],
        where: DossierFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> DossierConnection:
        limit = page_size(first, MAX_PAGE)
        items, cursor = await read_scoped(
            info,
            "dossiers",
            lambda uow, scope: queries.list_dossiers(
                uow.session, _filter(where), now=uow.clock.now(), limit=limit, cursor=after, scope=scope
            ),
        )
        return DossierConnection(items=[Dossier.of(i) for i in items], next_cursor=cursor)

    @strawberry.field(
        description="The office hours a unit works: its own, else its nearest ancestor's (setOn), else the default ones"
    )
    async def office_hours(self, info: strawberry.Info[GraphQLContext, None], unit: str) -> OfficeHours:
        checked = checked_input(_UnitArgument, {"unit": unit}, in_vietnamese)

        async def hours(uow: UnitOfWork, scope: Scope) -> OfficeHoursOut:
            scope.check(checked.unit, f"No unit {checked.unit} in your scope.")
            return await office_hours.office_hours_of(uow.session, checked.unit)

        return OfficeHours.from_pydantic(await read_scoped(info, "dossiers", hours))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Give a unit office hours of its own; its sub-units without their own follow. Publishes calendar.changed "
        "and re-dates the open dossiers received here by the units concerned (dossier.rescheduled), as the REST PUT does"
    )
    async def set_office_hours(
        self, info: strawberry.Info[GraphQLContext, None], unit: str, input: OfficeHoursInput
    ) -> OfficeHours:
        data = checked_input(_UnitHoursArguments, {"unit": unit, **strawberry.asdict(input)}, in_vietnamese)

        async def set_hours(uow: UnitOfWork, scope: Scope) -> OfficeHoursOut:
            scope.check(data.unit, f"No unit {data.unit} in your scope.")
            return await office_hours.set_office_hours(uow, data.unit, data)

        return OfficeHours.from_pydantic(await in_scoped_transaction(info, "dossiers", set_hours))

    @strawberry.mutation(
        description="Withdraw a unit's own office hours (NOT_FOUND when it has none): it works its nearest ancestor's or the "
        "default ones again, which are returned; publishes and re-dates as setOfficeHours does"
    )
    async def clear_office_hours(self, info: strawberry.Info[GraphQLContext, None], unit: str) -> OfficeHours:
        checked = checked_input(_UnitArgument, {"unit": unit}, in_vietnamese)

        async def clear(uow: UnitOfWork, scope: Scope) -> OfficeHoursOut:
            scope.check(checked.unit, f"No unit {checked.unit} in your scope.")
            await office_hours.remove_office_hours(uow, checked.unit)
            return await office_hours.office_hours_of(uow.session, checked.unit)

        return OfficeHours.from_pydantic(await in_scoped_transaction(info, "dossiers", clear))
