"""GraphQL types and resolvers of the dossiers service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from services.dossiers import queries
from services.dossiers.codes import Timeliness
from services.dossiers.schemas import DossierOut
from shared.graphql import GraphQLContext, domain_error, service_status_field
from shared.problems import DomainError

TimelinessEnum = strawberry.enum(Timeliness, name="Timeliness")


@strawberry.type
class StatusStep:
    status: int
    label: str
    at: datetime | None
    source: str
    actor: str | None
    note: str | None


@strawberry.type
class Pause:
    requested_at: datetime | None
    resumed_at: datetime | None
    working_seconds: int | None


@strawberry.type
class DueChange:
    due_at: datetime | None
    previous_due_at: datetime | None
    at: datetime | None
    reason: str


@strawberry.type
class Dossier:
    ma_ho_so: str
    origin: str
    status: int
    status_label: str
    unit: str
    procedure_code: str
    procedure_name: str | None
    channel: int
    applicant_name: str | None
    received_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None
    finished_at: datetime | None
    timeliness: TimelinessEnum | None  # type: ignore[valid-type]
    rule_set: str
    supplement_count: int
    status_history: list[StatusStep]
    pauses: list[Pause]
    due_history: list[DueChange]
    apology: JSON | None

    @classmethod
    def of(cls, d: DossierOut) -> Dossier:
        return cls(
            ma_ho_so=d.ma_ho_so,
            origin=d.origin,
            status=d.status,
            status_label=d.status_label,
            unit=d.unit,
            procedure_code=d.procedure["code"],
            procedure_name=d.procedure["name"],
            channel=d.channel,
            applicant_name=d.applicant["name"],
            received_at=d.received_at,
            due_at=d.due_at,
            original_due_at=d.original_due_at,
            finished_at=d.finished_at,
            timeliness=d.timeliness,
            rule_set=d.rule_set,
            supplement_count=d.supplement_count,
            status_history=[
                StatusStep(status=s.status, label=s.label, at=s.at, source=s.source, actor=s.actor, note=s.note)
                for s in d.status_history
            ],
            pauses=[Pause(requested_at=p.requested_at, resumed_at=p.resumed_at, working_seconds=p.working_seconds) for p in d.pauses],
            due_history=[
                DueChange(due_at=c.due_at, previous_due_at=c.previous_due_at, at=c.at, reason=c.reason) for c in d.due_history
            ],
            apology=d.apology,
        )


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
    received_from: datetime | None = None
    received_to: datetime | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None


def _filter(where: DossierFilterInput | None) -> queries.DossierFilter:
    values: dict[str, Any] = vars(where) if where else {}
    return queries.DossierFilter(**values)


@strawberry.type
class Query:
    dossiers_status = service_status_field("dossiers")

    @strawberry.field(description="One dossier by MaHoSo, with its status history and pauses")
    async def dossier(self, info: strawberry.Info[GraphQLContext, None], ma_ho_so: str) -> Dossier | None:
        async with info.context.service("dossiers").uow() as uow:
            try:
                return Dossier.of(await queries.get_dossier(uow.session, ma_ho_so))
            except DomainError as exc:
                if exc.status == 404:
                    return None
                raise domain_error(exc) from None

    @strawberry.field(description="Dossiers by unit (sub-units included), status, timeliness...; paged by cursor")
    async def dossiers(
        self,
        info: strawberry.Info[GraphQLContext, None],
        where: DossierFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> DossierConnection:
        async with info.context.service("dossiers").uow() as uow:
            try:
                items, cursor = await queries.list_dossiers(uow.session, _filter(where), limit=max(1, first), cursor=after)
            except DomainError as exc:
                raise domain_error(exc) from None
        return DossierConnection(items=[Dossier.of(i) for i in items], next_cursor=cursor)
