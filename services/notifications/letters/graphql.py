"""GraphQL of the apology letters: the REST routes' functions, the same refusals as error codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.notifications.letters import sending, service
from services.notifications.letters.api import letter_out
from services.notifications.letters.models import Letter
from services.notifications.letters.schemas import LetterCreate, LetterFailure
from shared.graphql import GraphQLContext, checked_input, in_scoped_transaction, read_scoped
from shared.problems import NotFound
from shared.scope import Scope
from shared.uow import UnitOfWork


@strawberry.type(description="An apology letter (Phiếu xin lỗi / Văn bản xin lỗi)")
class LetterType:
    id: str
    ma_ho_so: str
    unit: str
    number: str | None
    status: str
    regime: str
    regime_title: str
    template_id: str
    template_version: int
    channel: int
    origin: str
    reason: str
    missed_due_at: datetime
    new_due_at: datetime
    created_at: datetime
    approved_at: datetime | None
    issued_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    escalated_at: datetime | None
    pdf_path: str = strawberry.field(description="Where to GET the PDF")

    @classmethod
    def of(cls, letter: Letter) -> LetterType:
        out = letter_out(letter).model_dump()
        template = out.pop("template")
        return cls(
            **out,
            template_id=template["id"],
            template_version=template["version"],
            pdf_path=f"/notifications/v1/letters/{letter.id}.pdf",
        )


@strawberry.type
class LettersQuery:
    @strawberry.field(description="The apology letters of a dossier (by MaHoSo)")
    async def letters(self, info: Info[GraphQLContext, None], dossier: str) -> list[LetterType]:
        async def run(uow: UnitOfWork, scope: Scope) -> list[LetterType]:
            return [LetterType.of(x) for x in await service.letters_of(uow.session, dossier, scope)]

        return await read_scoped(info, "notifications", run)

    @strawberry.field(description="One apology letter")
    async def letter(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> LetterType | None:
        async def run(uow: UnitOfWork, scope: Scope) -> LetterType | None:
            try:
                return LetterType.of(await service.get_letter(uow.session, str(id), scope=scope))
            except NotFound:
                return None

        return await read_scoped(info, "notifications", run)

    @strawberry.field(description="Letters to print and hand over: paper ones, and those no electronic message reached")
    async def letter_print_queue(self, info: Info[GraphQLContext, None], unit: str | None = None) -> list[LetterType]:
        async def run(uow: UnitOfWork, scope: Scope) -> list[LetterType]:
            return [LetterType.of(x) for x in await service.print_queue(uow.session, unit, scope)]

        return await read_scoped(info, "notifications", run)


async def _on_letter(info: Info[GraphQLContext, None], letter_id: str, action: Any) -> LetterType:
    async def run(uow: UnitOfWork, scope: Scope) -> LetterType:
        letter = await service.get_letter(uow.session, letter_id, for_update=True, scope=scope)
        await action(uow, letter)
        return LetterType.of(letter)

    return await in_scoped_transaction(info, "notifications", run)


@strawberry.type
class LettersMutation:
    @strawberry.mutation(description="Write a dossier's letter now (an officer, early or not)")
    async def create_letter(
        self,
        info: Info[GraphQLContext, None],
        dossier: str,
        reason: str | None = None,
        new_due_at: datetime | None = None,
    ) -> LetterType:
        body = checked_input(LetterCreate, {"dossier": dossier, "reason": reason, "new_due_at": new_due_at})

        async def run(uow: UnitOfWork, scope: Scope) -> LetterType:
            letter, _ = await service.create_by_officer(uow, body.dossier, body.reason, body.new_due_at, scope)
            return LetterType.of(letter)

        return await in_scoped_transaction(info, "notifications", run)

    @strawberry.mutation(description="Approve a draft letter")
    async def approve_letter(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> LetterType:
        who = info.context.principal.subject
        return await _on_letter(info, str(id), lambda uow, letter: service.approve(uow, letter, by=who))

    @strawberry.mutation(description="Issue an approved letter (numbered; letter.issued)")
    async def issue_letter(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> LetterType:
        who = info.context.principal.subject
        return await _on_letter(info, str(id), lambda uow, letter: service.issue(uow, letter, by=who))

    @strawberry.mutation(description="Mark a letter delivered (handed over at the desk, or received)")
    async def mark_letter_delivered(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> LetterType:
        return await _on_letter(info, str(id), sending.mark_delivered)

    @strawberry.mutation(description="Mark a letter's delivery failed, with the reason")
    async def mark_letter_failed(self, info: Info[GraphQLContext, None], id: strawberry.ID, reason: str) -> LetterType:
        body = checked_input(LetterFailure, {"reason": reason})
        return await _on_letter(info, str(id), lambda uow, letter: sending.mark_failed(uow, letter, body.reason))
