"""REST routes of the apology letters (under ``/notifications/v1``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from services.notifications.letters import policy, sending, service
from services.notifications.letters.models import Letter
from services.notifications.letters.regimes import regime
from services.notifications.letters.rendering import SHORT_LIMITS
from services.notifications.letters.schemas import (
    LetterCreate,
    LetterFailure,
    LetterList,
    LetterOut,
    LetterSettingsIn,
    LetterSettingsOut,
    ShortTextOut,
    TemplateOut,
)
from shared.auth import CurrentPrincipal
from shared.clock import VN_TZ
from shared.scope import CurrentScope, Scope
from shared.service import Uow
from shared.uow import UnitOfWork

router = APIRouter(tags=["letters"])
LetterId = Annotated[str, Path(max_length=36, description="A letter id")]
UnitCode = Annotated[str, Path(min_length=1, max_length=64, description="A unit code, e.g. 000.00.12.H42")]


def letter_out(letter: Letter) -> LetterOut:
    """The letter as the API shows it, instants in Vietnam time."""
    return LetterOut(
        id=letter.id,
        ma_ho_so=letter.ma_ho_so,
        unit=letter.unit_code,
        number=letter.number,
        status=letter.status,
        regime=letter.regime,
        regime_title=regime(letter.regime).title,
        template=TemplateOut(id=letter.template_id, version=letter.template_version),
        channel=letter.channel,
        origin=letter.origin,
        reason=letter.reason,
        missed_due_at=letter.missed_due_at.astimezone(VN_TZ),
        new_due_at=letter.new_due_at.astimezone(VN_TZ),
        created_at=letter.created_at.astimezone(VN_TZ),
        approved_at=_local(letter.approved_at),
        issued_at=_local(letter.issued_at),
        delivered_at=_local(letter.delivered_at),
        failed_at=_local(letter.failed_at),
        failure_reason=letter.failure_reason,
        escalated_at=_local(letter.escalated_at),
    )


def _local(instant: datetime | None) -> datetime | None:
    return instant.astimezone(VN_TZ) if instant else None


def settings_out(unit_policy: policy.UnitPolicy) -> LetterSettingsOut:
    return LetterSettingsOut.model_validate(unit_policy.__dict__)


@router.get("/letters", response_model=LetterList, summary="The apology letters of a dossier")
async def list_letters(
    uow: Uow,
    scope: CurrentScope,
    dossier: Annotated[str, Query(min_length=1, max_length=64, description="MaHoSo")],
) -> LetterList:
    return LetterList(items=[letter_out(x) for x in await service.letters_of(uow.session, dossier, scope)])


@router.post(
    "/letters",
    response_model=LetterOut,
    status_code=201,
    summary="Write a dossier's letter now (an officer, early or not)",
)
async def create_letter(body: LetterCreate, uow: Uow, scope: CurrentScope, response: Response) -> LetterOut:
    letter, created = await service.create_by_officer(uow, body.dossier, body.reason, body.new_due_at, scope)
    await uow.commit()
    if not created:
        response.status_code = 200  # the dossier's letter for that due date already exists
    return letter_out(letter)


@router.get(
    "/letters/print-queue",
    response_model=LetterList,
    summary="Letters to print and hand over: paper ones, and those no electronic message reached",
)
async def print_queue(
    uow: Uow,
    scope: CurrentScope,
    unit: Annotated[str | None, Query(max_length=64, description="Only this unit's")] = None,
) -> LetterList:
    return LetterList(items=[letter_out(x) for x in await service.print_queue(uow.session, unit, scope)])


@router.get(
    "/letters/{letter_id}.pdf",
    response_class=Response,
    summary="The letter as PDF",
    responses={200: {"content": {"application/pdf": {}}}},
)
async def letter_pdf(letter_id: LetterId, uow: Uow, scope: CurrentScope) -> Response:
    letter = await service.get_letter(uow.session, letter_id, scope=scope)
    pdf = await service.pdf_of(letter, scope)
    name = (letter.number or f"du-thao-{letter.id}").replace("/", "-")
    return Response(
        pdf, media_type="application/pdf", headers={"content-disposition": f'inline; filename="{name}.pdf"'}
    )


@router.get("/letters/{letter_id}/text", response_model=ShortTextOut, summary="The letter as one SMS or Zalo message")
async def letter_text(
    letter_id: LetterId, uow: Uow, scope: CurrentScope, channel: Literal["sms", "zalo"]
) -> ShortTextOut:
    letter = await service.get_letter(uow.session, letter_id, scope=scope)
    text = service.short_text_of(letter, channel, scope)
    return ShortTextOut(channel=channel, text=text, limit=SHORT_LIMITS[channel])


@router.get("/letters/{letter_id}", response_model=LetterOut, summary="One letter")
async def get_letter(letter_id: LetterId, uow: Uow, scope: CurrentScope) -> LetterOut:
    return letter_out(await service.get_letter(uow.session, letter_id, scope=scope))


async def _act(uow: UnitOfWork, scope: Scope, letter_id: str, action: Callable[[Letter], Awaitable[None]]) -> LetterOut:
    letter = await service.get_letter(uow.session, letter_id, for_update=True, scope=scope)
    await action(letter)
    await uow.commit()
    return letter_out(letter)


@router.post("/letters/{letter_id}:approve", response_model=LetterOut, summary="Approve a draft")
async def approve_letter(letter_id: LetterId, uow: Uow, scope: CurrentScope, principal: CurrentPrincipal) -> LetterOut:
    return await _act(uow, scope, letter_id, lambda letter: service.approve(uow, letter, by=principal.subject))


@router.post(
    "/letters/{letter_id}:issue", response_model=LetterOut, summary="Issue an approved letter (numbered; letter.issued)"
)
async def issue_letter(letter_id: LetterId, uow: Uow, scope: CurrentScope, principal: CurrentPrincipal) -> LetterOut:
    return await _act(uow, scope, letter_id, lambda letter: service.issue(uow, letter, by=principal.subject))


@router.post(
    "/letters/{letter_id}:deliver",
    response_model=LetterOut,
    summary="Mark delivered (handed over at the desk, or received)",
)
async def deliver_letter(letter_id: LetterId, uow: Uow, scope: CurrentScope) -> LetterOut:
    return await _act(uow, scope, letter_id, lambda letter: sending.mark_delivered(uow, letter))


@router.post("/letters/{letter_id}:fail", response_model=LetterOut, summary="Mark its delivery failed, with the reason")
async def fail_letter(letter_id: LetterId, body: LetterFailure, uow: Uow, scope: CurrentScope) -> LetterOut:
    return await _act(uow, scope, letter_id, lambda letter: sending.mark_failed(uow, letter, body.reason))


@router.get(
    "/letter-settings:default",
    response_model=LetterSettingsOut,
    summary="The letter settings units without their own follow",
)
async def get_default_settings(uow: Uow, principal: CurrentPrincipal) -> LetterSettingsOut:
    return settings_out(await policy.unit_policy(uow.session, policy.DEFAULT))


@router.put(
    "/letter-settings:default",
    response_model=LetterSettingsOut,
    summary="Set the letter settings units without their own follow",
)
async def put_default_settings(body: LetterSettingsIn, uow: Uow, scope: CurrentScope) -> LetterSettingsOut:
    """Every unit without settings of its own issues its letters under these, its own name (from
    the recipient directory) as the issuing body."""
    scope.require_whole_system("The default letter settings")
    saved = await policy.put_settings(uow, policy.DEFAULT, body.model_dump())
    await uow.commit()
    return settings_out(saved)


@router.get(
    "/letter-settings/{unit_code}",
    response_model=LetterSettingsOut,
    summary="A unit's letterhead, signer and letter policy",
)
async def get_settings(unit_code: UnitCode, uow: Uow, scope: CurrentScope) -> LetterSettingsOut:
    scope.check(unit_code, f"No unit {unit_code} in your scope.")
    return settings_out(await policy.unit_policy(uow.session, unit_code))


@router.put(
    "/letter-settings/{unit_code}",
    response_model=LetterSettingsOut,
    summary="Set a unit's letterhead, signer and letter policy",
)
async def put_settings(unit_code: UnitCode, body: LetterSettingsIn, uow: Uow, scope: CurrentScope) -> LetterSettingsOut:
    scope.check(unit_code, f"No unit {unit_code} in your scope.")
    saved = await policy.put_settings(uow, unit_code, body.model_dump())
    await uow.commit()
    return settings_out(saved)
