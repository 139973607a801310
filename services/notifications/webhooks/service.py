"""Webhook endpoints (Standard Webhooks): saved, fanned out to, signed, retried on a schedule.

Every domain event of every service reaches :func:`fan_out` (the notifications consumer
subscribes to every topic); it stores the message once and queues one delivery per enabled
endpoint whose filter takes the event's type. The worker (``worker.py``) sends them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from datetime import datetime, timedelta

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from services.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from services.notifications.webhooks.schemas import ANY, PING_TYPE, WebhookIn, WebhookPatch
from services.notifications.webhooks.urls import unsafe_reason
from shared.api_keys import INTERNAL_EVENT_TYPES
from shared.db import get_or_404
from shared.events import CloudEvent, new_event_id
from shared.problems import Conflict, DomainError, NotFound
from shared.settings import Settings
from shared.uow import UnitOfWork

RESPONSE_KEPT = 2048
_ENDPOINTS_CACHE = "webhooks.enabled_endpoints"


class UnsafeUrl(DomainError):
    status = 422
    code = "invalid_request"


def new_secret() -> str:
    """A ``whsec_`` secret: 32 random bytes, base64 (what the ``standardwebhooks`` package reads)."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


async def check_url(url: str, settings: Settings) -> None:
    reason = await unsafe_reason(url, settings.notifications_webhook_allowed_hosts)
    if reason is not None:
        raise UnsafeUrl(
            "The webhook URL is refused.",
            errors=[{"field": "body.url", "message": f"the URL {reason}", "type": "url_refused"}],
        )


async def create_endpoint(uow: UnitOfWork, body: WebhookIn, settings: Settings) -> WebhookEndpoint:
    await check_url(body.url, settings)
    now = uow.clock.now()
    endpoint = WebhookEndpoint(
        id=f"ep_{new_event_id()}",
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        secret=new_secret(),
        enabled=True,
        exhausted_in_a_row=0,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(endpoint)
    return endpoint


async def get_endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
    return await get_or_404(session, WebhookEndpoint, endpoint_id, f"No webhook endpoint {endpoint_id!r}.")


async def list_endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    return (await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at))).all()


async def update_endpoint(
    uow: UnitOfWork, endpoint_id: str, patch: WebhookPatch, settings: Settings
) -> WebhookEndpoint:
    endpoint = await get_endpoint(uow.session, endpoint_id)
    if patch.url is not None:
        await check_url(patch.url, settings)
        endpoint.url = patch.url
    if patch.event_types is not None:
        endpoint.event_types = patch.event_types
    if "description" in patch.model_fields_set:
        endpoint.description = patch.description
    if patch.enabled is True and not endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.exhausted_in_a_row = True, None, 0
        uow.deadlines_moved()  # its waiting deliveries go again
    elif patch.enabled is False:
        endpoint.enabled, endpoint.disabled_reason = False, "disabled by a user"
    endpoint.updated_at = uow.clock.now()
    return endpoint


async def delete_endpoint(uow: UnitOfWork, endpoint_id: str) -> None:
    await uow.session.delete(await get_endpoint(uow.session, endpoint_id))


async def rotate_secret(uow: UnitOfWork, endpoint_id: str, settings: Settings) -> WebhookEndpoint:
    """A new secret; the old one goes on signing next to it for the overlap, so receivers can switch."""
    endpoint = await get_endpoint(uow.session, endpoint_id)
    now = uow.clock.now()
    overlap = timedelta(hours=settings.notifications_webhook_secret_overlap_hours)
    endpoint.previous_secret = endpoint.secret if overlap else None
    endpoint.previous_secret_until = now + overlap if overlap else None
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    return endpoint


def message_body(event: CloudEvent) -> str:
    """The JSON posted for an event: Standard Webhooks' ``type``, ``timestamp`` and ``data``, plus
    the CloudEvent's ``id``, ``source`` and ``subject``."""
    return orjson.dumps(
        {
            "type": event.type,
            "timestamp": event.time,
            "id": event.id,
            "source": event.source,
            "subject": event.subject,
            "data": event.data,
        },
        option=orjson.OPT_UTC_Z,
    ).decode()


async def _enabled_endpoints(session: AsyncSession) -> list[tuple[str, list[str]]]:
    """(id, filter) of the enabled endpoints, read once per transaction (a consumer batch)."""
    cached = session.info.get(_ENDPOINTS_CACHE)
    if cached is None:
        rows = await session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.enabled)
        )
        cached = session.info[_ENDPOINTS_CACHE] = [(i, list(t)) for i, t in rows]
    return cached


async def fan_out(uow: UnitOfWork, event: CloudEvent) -> None:
    """The consumer's handler of every event: one message, one delivery per endpoint that wants it
    (the API keys' events, internal, to none)."""
    if event.type in INTERNAL_EVENT_TYPES:
        return
    targets = [i for i, types in await _enabled_endpoints(uow.session) if ANY in types or event.type in types]
    if not targets:
        return
    await _queue(uow, f"msg_{event.id}", event.type, message_body(event), targets)


async def _queue(
    uow: UnitOfWork, message_id: str, event_type: str, body: str, endpoint_ids: Sequence[str]
) -> list[WebhookDelivery]:
    now = uow.clock.now()
    uow.session.add(WebhookMessage(id=message_id, event_type=event_type, body=body, created_at=now))
    await uow.session.flush()  # before its deliveries (no ORM relationship orders the inserts)
    deliveries = [
        WebhookDelivery(
            endpoint_id=e, message_id=message_id, status="queued", attempts=0, next_attempt_at=now, created_at=now
        )
        for e in endpoint_ids
    ]
    uow.session.add_all(deliveries)
    await uow.session.flush()
    uow.deadlines_moved()
    return deliveries


async def send_test(uow: UnitOfWork, endpoint_id: str) -> WebhookDelivery:
    """A ping (type ``vn.cchc.webhook.test.v1``) to one endpoint, whatever its filter."""
    endpoint = await _enabled(uow.session, endpoint_id)
    event_id = new_event_id()
    body = orjson.dumps(
        {"type": PING_TYPE, "timestamp": uow.clock.now(), "id": event_id, "data": {"endpoint_id": endpoint.id}},
        option=orjson.OPT_UTC_Z,
    ).decode()
    return (await _queue(uow, f"msg_{event_id}", PING_TYPE, body, [endpoint.id]))[0]


async def redeliver(uow: UnitOfWork, endpoint_id: str, delivery_id: int) -> WebhookDelivery:
    """Send a message again to an endpoint, with a fresh retry schedule; the attempt log is kept."""
    await _enabled(uow.session, endpoint_id)
    delivery = await get_delivery(uow.session, endpoint_id, delivery_id)
    if delivery.status == "sending":
        raise Conflict("The delivery is being sent right now.", allowed=["succeeded", "failed", "queued", "retrying"])
    delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.finished_at = (
        "queued",
        0,
        uow.clock.now(),
        None,
    )
    uow.deadlines_moved()
    return delivery


async def _enabled(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, endpoint_id)
    if not endpoint.enabled:
        raise Conflict(f"The endpoint is disabled ({endpoint.disabled_reason}); enable it first (PATCH enabled=true).")
    return endpoint


async def get_delivery(session: AsyncSession, endpoint_id: str, delivery_id: int) -> WebhookDelivery:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(f"No delivery {delivery_id} of webhook endpoint {endpoint_id!r}.")
    return delivery


async def list_deliveries(
    session: AsyncSession, endpoint_id: str, *, status: str | None = None, limit: int = 100, before: int | None = None
) -> list[tuple[WebhookDelivery, str]]:
    """An endpoint's deliveries with their event types, newest first."""
    await get_endpoint(session, endpoint_id)
    query = (
        select(WebhookDelivery, WebhookMessage.event_type)
        .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return [(d, t) for d, t in (await session.execute(query)).all()]


async def attempts_of(session: AsyncSession, delivery_id: int) -> Sequence[WebhookAttempt]:
    return (
        await session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        )
    ).all()


def signature(endpoint: WebhookEndpoint, message_id: str, at: datetime, body: str) -> str:
    """``webhook-signature``: by the current secret, and by the previous one during its overlap."""
    signatures = [Webhook(endpoint.secret).sign(message_id, at, body)]
    if endpoint.previous_secret and endpoint.previous_secret_until and at < endpoint.previous_secret_until:
        signatures.append(Webhook(endpoint.previous_secret).sign(message_id, at, body))
    return " ".join(signatures)


def headers(endpoint: WebhookEndpoint, message_id: str, at: datetime, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "cchc-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(endpoint, message_id, at, body),
    }


async def record_attempt(
    session: AsyncSession,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    *,
    at: datetime,
    seconds: float,
    status_code: int | None,
    response: str | None,
    error: str | None,
    settings: Settings,
) -> None:
    """Log the attempt; move the delivery to ``succeeded``, ``retrying`` (per the schedule) or
    ``failed`` (schedule exhausted: one more strike for the endpoint, disabled at the limit)."""
    ok = status_code is not None and 200 <= status_code < 300 and error is None
    schedule = settings.notifications_webhook_retry_schedule
    delivery.last_status_code = status_code
    if ok:
        delivery.status, delivery.next_attempt_at, delivery.finished_at = "succeeded", None, at
        await _reset_strikes(session, endpoint)
        outcome = "succeeded"
    elif delivery.attempts <= len(schedule):
        delivery.status = "retrying"
        delivery.next_attempt_at = at + timedelta(seconds=schedule[delivery.attempts - 1])
        outcome = "retry"
    else:
        delivery.status, delivery.next_attempt_at, delivery.finished_at = "failed", None, at
        await _strike(session, endpoint, settings, at)
        outcome = "failed"
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            attempted_at=at,
            duration_ms=round(seconds * 1000),
            status_code=status_code,
            response=response,
            error=error[:500] if error else None,
            outcome=outcome,
        )
    )


async def _reset_strikes(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    if endpoint.exhausted_in_a_row:
        await session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id).values(exhausted_in_a_row=0)
        )


async def _strike(session: AsyncSession, endpoint: WebhookEndpoint, settings: Settings, at: datetime) -> None:
    """One more message whose schedule ran out; at the limit the endpoint is disabled."""
    strikes = (
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id)
            .values(exhausted_in_a_row=WebhookEndpoint.exhausted_in_a_row + 1, updated_at=at)
            .returning(WebhookEndpoint.exhausted_in_a_row)
        )
    ).scalar_one()
    limit = settings.notifications_webhook_disable_after
    if strikes >= limit:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.enabled)
            .values(
                enabled=False, disabled_reason=f"{strikes} messages in a row failed after every retry", updated_at=at
            )
        )


def response_excerpt(content: bytes) -> str:
    return content[:RESPONSE_KEPT].decode("utf-8", errors="replace")


async def event_type_of(session: AsyncSession, delivery: WebhookDelivery) -> str:
    return (
        await session.scalar(select(WebhookMessage.event_type).where(WebhookMessage.id == delivery.message_id))
    ) or ""
