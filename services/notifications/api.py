"""REST routes of the notifications service (mounted at ``/notifications``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.notifications import service
from services.notifications.channels.api import router as deliveries_router
from services.notifications.directory.api import router as contacts_router
from services.notifications.schemas import RecipientOut
from services.notifications.webhooks.api import router as webhooks_router
from shared.auth import CurrentPrincipal
from shared.service import Uow

router = APIRouter(prefix="/v1", tags=["recipients"])


@router.get("/recipients", response_model=list[RecipientOut], summary="The recipient directory")
async def list_recipients(uow: Uow, principal: CurrentPrincipal) -> list[RecipientOut]:
    return [RecipientOut.model_validate(r) for r in await service.list_recipients(uow.session)]


@router.get("/recipients/{unit_code}", response_model=RecipientOut, summary="One recipient")
async def get_recipient(unit_code: str, uow: Uow, principal: CurrentPrincipal) -> RecipientOut:
    return RecipientOut.model_validate(await service.get_recipient(uow.session, unit_code))


router.include_router(contacts_router)
router.include_router(deliveries_router)
router.include_router(webhooks_router)
