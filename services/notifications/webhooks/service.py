"""Webhook endpoints (Standard Webhooks): saved, fanned out to, signed, retried on a schedule.

Every domain event of every service reaches :func:`fan_out` (the notifications consumer
subscribes to every topic); it stores the message once and queues one delivery per enabled
endpoint whose filter takes the event's type. The worker (``worker.py``) sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from services.notifications.models import directory
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from services.notifications.webhooks.schemas import ANY, PING_TYPE, WebhookIn, WebhookPatch
from services.notifications.webhooks.urls import unsafe_reason
from shared.api_keys import INTERNAL_EVENT_TYPES
from shared.audit import HIDDEN, changed
from shared.events import CloudEvent, EventSpec, new_event_id, registry
from shared.instants import vn_iso
from shared.personal import masked_paths
from shared.problems import Conflict, DomainError, Forbidden, NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.signatures import new_secret
from shared.units import UnitSnapshot
from shared.uow import UnitOfWork

RESPONSE_KEPT = 2048
_ENDPOINTS_CACHE = "webhooks.enabled_endpoints"


class UnsafeUrl(DomainError):
    status = 422
    code = "invalid_request"


async def check_url(url: str, settings: NotificationsSettings) -> None:
    reason = await unsafe_reason(url, settings.notifications_webhook_allowed_hosts)
    if reason is not None:
        raise UnsafeUrl(
            "The webhook URL is refused.",
            errors=[{"field": "body.url", "message": f"the URL {reason}", "type": "url_refused"}],
        )


def check_personal_data(asked: bool | None, may_allow: bool) -> None:
    """Only an administrator lets an endpoint receive personal data unmasked."""
    if asked and not may_allow:
        raise Forbidden(
            "Only an administrator may let an endpoint receive personal data.",
            errors=[{"field": "body.personal_data", "message": "administrators only"}],
        )


async def create_endpoint(
    uow: UnitOfWork,
    body: WebhookIn,
    settings: NotificationsSettings,
    scope: Scope = WHOLE_SYSTEM,
    *,
    may_allow_personal: bool = True,
) -> WebhookEndpoint:
    """A new endpoint, for the unit ``body`` names (in ``scope``) or else the scope's own unit."""
    unit = body.unit_code or scope.root
    scope.check(unit, f"No unit {unit} in your scope.", field="body.unit_code")
    check_personal_data(body.personal_data, may_allow_personal)
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
        unit_code=unit,
        personal_data=body.personal_data,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(endpoint)
    uow.audit("webhook_endpoint.created", "webhook_endpoint", endpoint.id, _changes({}, _state(endpoint)))
    return endpoint


async def get_endpoint(session: AsyncSession, endpoint_id: str, scope: Scope = WHOLE_SYSTEM) -> WebhookEndpoint:
    """The endpoint, if it is one of a unit in ``scope`` (a whole-system endpoint is in the whole
    system's scope only)."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, scope.where(WebhookEndpoint.unit_code))
    endpoint = await session.scalar(query)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id!r}.")
    return endpoint


async def list_endpoints(session: AsyncSession, scope: Scope = WHOLE_SYSTEM) -> Sequence[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(scope.where(WebhookEndpoint.unit_code))
    return (await session.scalars(query.order_by(WebhookEndpoint.created_at))).all()


async def update_endpoint(
    uow: UnitOfWork,
    endpoint_id: str,
    patch: WebhookPatch,
    settings: NotificationsSettings,
    scope: Scope = WHOLE_SYSTEM,
    *,
    may_allow_personal: bool = True,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(uow.session, endpoint_id, scope)
    before = _state(endpoint)
    check_personal_data(patch.personal_data, may_allow_personal)
    if patch.personal_data is not None:
        endpoint.personal_data = patch.personal_data
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
    if differences := _changes(before, _state(endpoint)):
        uow.audit("webhook_endpoint.changed", "webhook_endpoint", endpoint_id, differences)
    return endpoint


async def delete_endpoint(uow: UnitOfWork, endpoint_id: str, scope: Scope = WHOLE_SYSTEM) -> None:
    endpoint = await get_endpoint(uow.session, endpoint_id, scope)
    await uow.session.delete(endpoint)
    uow.audit("webhook_endpoint.deleted", "webhook_endpoint", endpoint_id, _changes(_state(endpoint), {}))


def _state(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log compares of an endpoint: where it points (the URL, which may carry a
    token, only as changed, and its host), what it receives, whether it is enabled, and its
    description (free text: only as changed)."""
    return {
        "url": endpoint.url,
        "url_host": urlsplit(endpoint.url).hostname,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "personal_data": endpoint.personal_data,
        "description": endpoint.description,
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return changed(before, after, hidden=["url", "description"])


async def rotate_secret(
    uow: UnitOfWork, endpoint_id: str, settings: NotificationsSettings, scope: Scope = WHOLE_SYSTEM
) -> WebhookEndpoint:
    """A new secret; the old one goes on signing next to it for the overlap, so receivers can switch."""
    endpoint = await get_endpoint(uow.session, endpoint_id, scope)
    now = uow.clock.now()
    overlap = timedelta(hours=settings.notifications_webhook_secret_overlap_hours)
    endpoint.previous_secret = endpoint.secret if overlap else None
    endpoint.previous_secret_until = now + overlap if overlap else None
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    uow.audit("webhook_endpoint.secret_rotated", "webhook_endpoint", endpoint_id, {"secret": HIDDEN})
    return endpoint


def message_body(event: CloudEvent, data: dict[str, Any] | None = None) -> str:
    """The JSON posted for an event: Standard Webhooks' ``type``, ``timestamp`` and ``data`` (the
    event's, or ``data``), plus the CloudEvent's ``id``, ``source`` and ``subject``."""
    return orjson.dumps(
        {
            "type": event.type,
            "timestamp": vn_iso(event.time),
            "id": event.id,
            "source": event.source,
            "subject": event.subject,
            "data": event.data if data is None else data,
        }
    ).decode()


@dataclass(frozen=True)
class _Target:
    """What the fan-out reads of an enabled endpoint."""

    id: str
    event_types: list[str]
    unit_code: str | None
    personal_data: bool

    def wants(self, event_type: str) -> bool:
        return ANY in self.event_types or event_type in self.event_types


async def _enabled_endpoints(session: AsyncSession) -> list[_Target]:
    """The enabled endpoints, read once per transaction (a consumer batch)."""
    cached = session.info.get(_ENDPOINTS_CACHE)
    if cached is None:
        E = WebhookEndpoint
        rows = await session.execute(
            select(E.id, E.event_types, E.unit_code, E.personal_data).where(E.enabled).order_by(E.id)
        )
        cached = session.info[_ENDPOINTS_CACHE] = [_Target(i, list(t), u, bool(p)) for i, t, u, p in rows]
    return cached


def _about(spec: EventSpec | None, event: CloudEvent, unit: str | None, tree: UnitSnapshot | None) -> bool:
    """Whether ``event`` is about a unit under ``unit`` (every event is, for a whole-system endpoint).
    An event naming no unit, or of a type this process does not know, is for whole-system endpoints."""
    if unit is None:
        return True
    if spec is None or tree is None:
        return False
    return not spec.units_of(event.data).isdisjoint(tree.subtree(unit))


async def fan_out(uow: UnitOfWork, event: CloudEvent) -> None:
    """The consumer's handler of every event: one message, one delivery per endpoint that wants it
    (its filter takes the type, and a unit's endpoint only events about its units); the body with
    personal data masked is kept beside the full one for the endpoints not allowed to see it; the API keys' events, internal, go to none."""
    if event.type in INTERNAL_EVENT_TYPES:
        return
    wanted = [t for t in await _enabled_endpoints(uow.session) if t.wants(event.type)]
    if not wanted:
        return
    spec = registry.get(event.type)
    tree = await directory.snapshot(uow.session) if any(t.unit_code for t in wanted) else None
    targets = [t for t in wanted if _about(spec, event, t.unit_code, tree)]
    if spec is None:  # what it may carry is unknown: only to the endpoints that may see everything
        targets = [t for t in targets if t.personal_data]
    if not targets:
        return
    masked = None
    if spec is not None and spec.personal and not all(t.personal_data for t in targets):
        masked = message_body(event, masked_paths(event.data, spec.personal))
    ids = [t.id for t in targets]
    await _queue(uow, f"msg_{event.id}", event.type, message_body(event), ids, masked_body=masked)


async def _queue(
    uow: UnitOfWork,
    message_id: str,
    event_type: str,
    body: str,
    endpoint_ids: Sequence[str],
    *,
    masked_body: str | None = None,
) -> list[WebhookDelivery]:
    now = uow.clock.now()
    message = WebhookMessage(id=message_id, event_type=event_type, body=body, masked_body=masked_body, created_at=now)
    uow.session.add(message)
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


async def send_test(uow: UnitOfWork, endpoint_id: str, scope: Scope = WHOLE_SYSTEM) -> WebhookDelivery:
    """A ping (type ``vn.cchc.webhook.test.v1``) to one endpoint, whatever its filter."""
    endpoint = await _enabled(uow.session, endpoint_id, scope)
    event_id = new_event_id()
    body = orjson.dumps(
        {"type": PING_TYPE, "timestamp": vn_iso(uow.clock.now()), "id": event_id, "data": {"endpoint_id": endpoint.id}}
    ).decode()
    return (await _queue(uow, f"msg_{event_id}", PING_TYPE, body, [endpoint.id]))[0]


async def redeliver(
    uow: UnitOfWork, endpoint_id: str, delivery_id: int, scope: Scope = WHOLE_SYSTEM
) -> WebhookDelivery:
    """Send a message again to an endpoint, with a fresh retry schedule; the attempt log is kept."""
    await _enabled(uow.session, endpoint_id, scope)
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


async def _enabled(session: AsyncSession, endpoint_id: str, scope: Scope) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, endpoint_id, scope)
    if not endpoint.enabled:
        raise Conflict(f"The endpoint is disabled ({endpoint.disabled_reason}); enable it first (PATCH enabled=true).")
    return endpoint


async def get_delivery(
    session: AsyncSession, endpoint_id: str, delivery_id: int, scope: Scope = WHOLE_SYSTEM
) -> WebhookDelivery:
    await get_endpoint(session, endpoint_id, scope)
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(f"No delivery {delivery_id} of webhook endpoint {endpoint_id!r}.")
    return delivery


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
    before: int | None = None,
    scope: Scope = WHOLE_SYSTEM,
) -> list[tuple[WebhookDelivery, str]]:
    """An endpoint's deliveries with their event types, newest first."""
    await get_endpoint(session, endpoint_id, scope)
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
    settings: NotificationsSettings,
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


async def _strike(
    session: AsyncSession, endpoint: WebhookEndpoint, settings: NotificationsSettings, at: datetime
) -> None:
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
