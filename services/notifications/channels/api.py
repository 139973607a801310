"""REST routes of the notifications log (every message sent over e-mail, SMS or Zalo)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.notifications.channels import service
from services.notifications.channels.schemas import DeliveryAttemptOut, DeliveryDetail, DeliveryOut, DeliveryPage
from shared.bounds import Id
from shared.scope import CurrentScope
from shared.service import Uow

router = APIRouter(tags=["notifications log"])


@router.get("/deliveries", response_model=DeliveryPage, summary="The notifications log, newest first")
async def list_deliveries(
    uow: Uow,
    scope: CurrentScope,
    status: Literal["queued", "sending", "retrying", "sent", "failed"] | None = None,
    channel: Literal["email", "sms", "zalo"] | None = None,
    ref_kind: Annotated[str | None, Query(max_length=40)] = None,
    ref_id: Annotated[str | None, Query(max_length=100)] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(description="an id: deliveries older than it")] = None,
) -> DeliveryPage:
    rows = await service.list_deliveries(
        uow.session,
        status=status,
        channel=channel,
        ref_kind=ref_kind,
        ref_id=ref_id,
        unit_code=unit,
        limit=limit,
        before=before,
        scope=scope,
    )
    return DeliveryPage(items=[DeliveryOut.shown(r, scope) for r in rows])


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail, summary="One delivery with every attempt")
async def get_delivery(delivery_id: Id, uow: Uow, scope: CurrentScope) -> DeliveryDetail:
    delivery = await service.get_delivery(uow.session, delivery_id, scope)
    attempts = [DeliveryAttemptOut.shown(a, scope) for a in await service.attempts_of(uow.session, delivery_id)]
    return DeliveryDetail(**DeliveryOut.shown(delivery, scope).model_dump(), attempt_log=attempts)
