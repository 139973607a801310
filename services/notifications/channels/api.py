"""REST routes of the notifications log (every message sent over e-mail, SMS or Zalo)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from services.notifications.channels import service
from services.notifications.channels.schemas import DeliveryAttemptOut, DeliveryDetail, DeliveryOut, DeliveryPage
from shared.bounds import Id
from shared.scope import CurrentScope
from shared.service import Uow

router = APIRouter(tags=["notifications log"])
DeliveryId = Annotated[Id, Path(description="The delivery's id")]


@router.get("/deliveries", response_model=DeliveryPage, summary="The notifications log, newest first")
async def list_deliveries(
    uow: Uow,
    scope: CurrentScope,
    status: Annotated[
        Literal["queued", "sending", "retrying", "sent", "failed"] | None, Query(description="Only in this status")
    ] = None,
    channel: Annotated[Literal["email", "sms", "zalo"] | None, Query(description="Only over this channel")] = None,
    ref_kind: Annotated[
        str | None, Query(max_length=40, description="Only about this: reminder, digest or letter")
    ] = None,
    ref_id: Annotated[str | None, Query(max_length=100, description="Only about the thing with this id")] = None,
    unit: Annotated[str | None, Query(max_length=64, description="Only to this unit's people")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many (500)")] = 100,
    before: Annotated[int | None, Query(description="an id: deliveries older than it")] = None,
) -> DeliveryPage:
    """Every message sent (or being sent) over e-mail, SMS or Zalo, newest first, filtered by status, channel, unit or what it is about; paged by `before`."""
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
async def get_delivery(delivery_id: DeliveryId, uow: Uow, scope: CurrentScope) -> DeliveryDetail:
    """One delivery with every attempt made (404 when unknown)."""
    delivery = await service.get_delivery(uow.session, delivery_id, scope)
    attempts = [DeliveryAttemptOut.shown(a, scope) for a in await service.attempts_of(uow.session, delivery_id)]
    return DeliveryDetail(**DeliveryOut.shown(delivery, scope).model_dump(), attempt_log=attempts)
