"""The webhook scheduler: sleeps until a delivery is due (first try or a retry), then sends the due
ones concurrently, each signed at the instant it is sent, and logs every attempt."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx
from sqlalchemy import select

from services.notifications import queue
from services.notifications.webhooks import service
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage, body_for
from services.notifications.webhooks.urls import unsafe_reason
from shared.service import Deadlines, ServiceContext
from shared.settings import Settings

BATCH = 200
_ENABLED = WebhookDelivery.endpoint_id.in_(select(WebhookEndpoint.id).where(WebhookEndpoint.enabled))


class Attempt:
    """What one POST came to."""

    def __init__(
        self, seconds: float, status_code: int | None = None, response: str | None = None, error: str | None = None
    ) -> None:
        self.seconds, self.status_code, self.response, self.error = seconds, status_code, response, error


async def post(client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str], timeout: float) -> Attempt:
    """POST the body; keep the status and the first 2 KB of the answer (read no further)."""
    started = time.perf_counter()
    try:
        async with client.stream("POST", url, content=body.encode(), headers=headers, timeout=timeout) as response:
            kept = b""
            async for chunk in response.aiter_bytes():
                kept += chunk
                if len(kept) >= service.RESPONSE_KEPT:
                    break
            return Attempt(time.perf_counter() - started, response.status_code, service.response_excerpt(kept))
    except httpx.HTTPError as exc:
        return Attempt(time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}"[:500])


async def attempt_all(
    context: ServiceContext,
    client: httpx.AsyncClient,
    limit: asyncio.Semaphore,
    work: list[tuple[WebhookEndpoint, WebhookMessage]],
) -> list[tuple[datetime, Attempt]]:
    """POST each message to its endpoint (``limit`` at a time), signed at the instant it goes;
    an endpoint whose URL now resolves to a forbidden address is not called."""
    settings: Settings = context.settings
    refused = {
        url: reason
        for url in {e.url for e, _ in work}
        if (reason := await unsafe_reason(url, settings.notifications_webhook_allowed_hosts)) is not None
    }

    async def attempt(endpoint: WebhookEndpoint, message: WebhookMessage) -> tuple[datetime, Attempt]:
        async with limit:
            at = context.clock.now()
            if endpoint.url in refused:
                return at, Attempt(0.0, error=f"refused: the URL {refused[endpoint.url]}")
            body = body_for(endpoint, message)
            headers = service.headers(endpoint, message.id, at, body)
            return at, await post(client, endpoint.url, body, headers, settings.notifications_webhook_timeout)

    return await asyncio.gather(*(attempt(e, m) for e, m in work))


async def send_due(context: ServiceContext, client: httpx.AsyncClient, now: datetime) -> int:
    """Claim, send and record the deliveries due at ``now``, a batch at a time; how many were tried."""
    settings: Settings = context.settings
    limit = asyncio.Semaphore(settings.notifications_webhook_concurrency)
    total = 0
    while True:
        async with context.uow() as uow:
            ids = await queue.claim_due(uow.session, WebhookDelivery, now, BATCH, _ENABLED)
            await uow.commit()
        if not ids:
            return total
        async with context.uow() as uow:  # read, then let go before sending (SQLite)
            work = (
                await uow.session.execute(
                    select(WebhookDelivery, WebhookEndpoint, WebhookMessage)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
                    .where(WebhookDelivery.id.in_(ids))
                )
            ).all()
        results = await attempt_all(context, client, limit, [(e, m) for _, e, m in work])
        async with context.uow() as uow:
            deliveries = {
                d.id: d
                for d in (await uow.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))).all()
            }
            for (claimed, endpoint, _), (at, result) in zip(work, results, strict=True):
                await service.record_attempt(
                    uow.session,
                    deliveries[claimed.id],
                    endpoint,
                    at=at,
                    seconds=result.seconds,
                    status_code=result.status_code,
                    response=result.response,
                    error=result.error,
                    settings=settings,
                )
            await uow.commit()
        total += len(ids)
        if len(ids) < BATCH:
            return total


async def earliest(context: ServiceContext) -> datetime | None:
    async with context.uow() as uow:
        return await queue.next_due(uow.session, WebhookDelivery, _ENABLED)


async def sweep(context: ServiceContext, now: datetime) -> None:
    limits = httpx.Limits(max_connections=context.settings.notifications_webhook_concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        await send_due(context, client, now)


WEBHOOKS = Deadlines(
    "webhooks", next_due=earliest, sweep=sweep, max_sleep=lambda settings: settings.notifications_worker_max_sleep
)
