"""REST routes of the notifications service (mounted at ``/notifications``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.notifications import service
from services.notifications.channels.api import router as deliveries_router
from services.notifications.directory.api import router as contacts_router
from services.notifications.letters.api import router as letters_router
from services.notifications.schemas import RecipientOut, RecipientPage
from services.notifications.webhooks.api import router as webhooks_router
from shared.paging import Cursor, Limit, decode_cursor, next_cursor
from shared.scope import CurrentScope
from shared.service import Uow

router = APIRouter(prefix="/v1", tags=["recipients"])


@router.get("/recipients", response_model=RecipientPage, summary="The recipient directory, by unit code")
async def list_recipients(uow: Uow, scope: CurrentScope, cursor: Cursor = None, limit: Limit = 100) -> RecipientPage:
    after = decode_cursor(cursor)
    found = await service.list_recipients(uow.session, after=after[0] if after else None, limit=limit + 1, scope=scope)
    return RecipientPage(
        items=[RecipientOut.of(unit) for unit in found[:limit]],
        next_cursor=next_cursor(found, limit, lambda unit: unit.code),
    )


@router.get("/recipients/{unit_code}", response_model=RecipientOut, summary="One recipient")
async def get_recipient(unit_code: str, uow: Uow, scope: CurrentScope) -> RecipientOut:
    return RecipientOut.of(await service.get_recipient(uow.session, unit_code, scope))


router.include_router(contacts_router)
router.include_router(deliveries_router)
router.include_router(webhooks_router)
router.include_router(letters_router)
