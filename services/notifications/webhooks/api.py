"""REST routes of the webhook endpoints and their deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import service
from services.notifications.webhooks.schemas import (
    AttemptOut,
    SecretRotated,
    WebhookCreated,
    WebhookDeliveryDetail,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from shared.auth import ADMIN, CurrentPrincipal
from shared.bounds import Id
from shared.scope import CurrentScope
from shared.service import Context, Uow

router = APIRouter(tags=["webhooks"])
EndpointId = Annotated[str, Path(description="The endpoint's id")]
DeliveryId = Annotated[Id, Path(description="The delivery's id")]
Status = Literal["queued", "sending", "retrying", "succeeded", "failed"]


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    status_code=201,
    summary="Subscribe an endpoint (the secret is shown once)",
)
async def create_webhook(
    body: WebhookIn, uow: Uow, context: Context, scope: CurrentScope, principal: CurrentPrincipal
) -> WebhookCreated:
    """Subscribe a partner's URL to event types: every matching event is POSTed to it, signed per Standard Webhooks with the returned `whsec_…` secret (shown once), and retried on a schedule until it succeeds."""
    admin = ADMIN in principal.roles and principal.unit is None  # a system administrator
    endpoint = await service.create_endpoint(
        uow, body, NotificationsSettings.of(context.settings), scope, may_allow_personal=admin
    )
    await uow.commit()
    return WebhookCreated(**WebhookOut.model_validate(endpoint).model_dump(), secret=endpoint.secret)


@router.get("/webhooks", response_model=dict[str, list[WebhookOut]], summary="Webhook endpoints")
async def list_webhooks(uow: Uow, scope: CurrentScope) -> dict[str, list[WebhookOut]]:
    """Every webhook endpoint (secrets are never shown again)."""
    return {"items": [WebhookOut.model_validate(e) for e in await service.list_endpoints(uow.session, scope)]}


@router.get("/webhooks/{endpoint_id}", response_model=WebhookOut, summary="One webhook endpoint")
async def get_webhook(endpoint_id: EndpointId, uow: Uow, scope: CurrentScope) -> WebhookOut:
    """One webhook endpoint (404 when unknown)."""
    return WebhookOut.model_validate(await service.get_endpoint(uow.session, endpoint_id, scope))


@router.patch("/webhooks/{endpoint_id}", response_model=WebhookOut, summary="Change, disable or re-enable an endpoint")
async def update_webhook(
    endpoint_id: EndpointId,
    body: WebhookPatch,
    uow: Uow,
    context: Context,
    scope: CurrentScope,
    principal: CurrentPrincipal,
) -> WebhookOut:
    """Change an endpoint's URL, event types or description, disable it, or re-enable it after it was disabled for failures."""
    admin = ADMIN in principal.roles and principal.unit is None  # a system administrator
    endpoint = await service.update_endpoint(
        uow, endpoint_id, body, NotificationsSettings.of(context.settings), scope, may_allow_personal=admin
    )
    await uow.commit()
    return WebhookOut.model_validate(endpoint)


@router.delete("/webhooks/{endpoint_id}", status_code=204, summary="Remove an endpoint and its deliveries")
async def delete_webhook(endpoint_id: EndpointId, uow: Uow, scope: CurrentScope) -> Response:
    """Remove an endpoint with its deliveries."""
    await service.delete_endpoint(uow, endpoint_id, scope)
    await uow.commit()
    return Response(status_code=204)


@router.post(
    "/webhooks/{endpoint_id}/secret:rotate",
    response_model=SecretRotated,
    summary="A new secret; the old one signs too for the overlap",
)
async def rotate_secret(endpoint_id: EndpointId, uow: Uow, context: Context, scope: CurrentScope) -> SecretRotated:
    """Give an endpoint a new secret (shown once); the old one keeps signing too for a while, so the partner can switch."""
    endpoint = await service.rotate_secret(uow, endpoint_id, NotificationsSettings.of(context.settings), scope)
    await uow.commit()
    return SecretRotated(id=endpoint.id, secret=endpoint.secret, previous_secret_until=endpoint.previous_secret_until)


@router.post(
    "/webhooks/{endpoint_id}:test", response_model=WebhookDeliveryOut, status_code=202, summary="Send a test ping"
)
async def test_webhook(endpoint_id: EndpointId, uow: Uow, scope: CurrentScope) -> WebhookDeliveryOut:
    """Send a ping (`vn.cchc.webhook.test.v1`) to an endpoint, whatever its event types."""
    delivery = await service.send_test(uow, endpoint_id, scope)
    await uow.commit()
    return _out(delivery, service.PING_TYPE)


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response_model=WebhookDeliveryPage,
    summary="An endpoint's deliveries, newest first",
)
async def list_webhook_deliveries(
    endpoint_id: EndpointId,
    uow: Uow,
    scope: CurrentScope,
    status: Annotated[Status | None, Query(description="Only in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many (500)")] = 100,
    before: Annotated[int | None, Query(description="A delivery id: only older ones")] = None,
) -> WebhookDeliveryPage:
    """An endpoint's deliveries, newest first, optionally in one status; paged by `before`."""
    rows = await service.list_deliveries(
        uow.session, endpoint_id, status=status, limit=limit, before=before, scope=scope
    )
    return WebhookDeliveryPage(items=[_out(d, t) for d, t in rows])


@router.get(
    "/webhooks/{endpoint_id}/deliveries/{delivery_id}",
    response_model=WebhookDeliveryDetail,
    summary="One delivery and its attempt log",
)
async def get_webhook_delivery(
    endpoint_id: EndpointId, delivery_id: DeliveryId, uow: Uow, scope: CurrentScope
) -> WebhookDeliveryDetail:
    """One delivery with every attempt (status, duration, the first 2 KB of the answer)."""
    delivery = await service.get_delivery(uow.session, endpoint_id, delivery_id, scope)
    event_type = await service.event_type_of(uow.session, delivery)
    attempts = [AttemptOut.model_validate(a) for a in await service.attempts_of(uow.session, delivery_id)]
    return WebhookDeliveryDetail(**_out(delivery, event_type).model_dump(), attempt_log=attempts)


@router.post(
    "/webhooks/{endpoint_id}/deliveries/{delivery_id}:redeliver",
    response_model=WebhookDeliveryOut,
    status_code=202,
    summary="Send the message again with a fresh retry schedule",
)
async def redeliver(
    endpoint_id: EndpointId, delivery_id: DeliveryId, uow: Uow, scope: CurrentScope
) -> WebhookDeliveryOut:
    """Send a message to the endpoint again, with a fresh retry schedule; the attempt log is kept."""
    delivery = await service.redeliver(uow, endpoint_id, delivery_id, scope)
    event_type = await service.event_type_of(uow.session, delivery)
    await uow.commit()
    return _out(delivery, event_type)


def _out(delivery: object, event_type: str) -> WebhookDeliveryOut:
    fields = {name: getattr(delivery, name) for name in WebhookDeliveryOut.model_fields if name != "event_type"}
    return WebhookDeliveryOut(**fields, event_type=event_type)
