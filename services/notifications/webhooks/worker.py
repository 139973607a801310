"""The webhook scheduler: sleeps until a delivery is due (first try or a retry), then sends the due
ones concurrently, each signed at the instant it is sent, and logs every attempt.

The HTTP client is aiohttp's: on loopback it sends small POSTs an order of magnitude faster than
httpx (measured 4,000–6,500/s against 280–370/s at ten in flight; see docs/performance.md), and
webhooks are the product's one high-volume outbound HTTP path. Redirects are not followed: a
receiver answers for itself (and a redirect could point at an address the URL check refused).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import aiohttp
from sqlalchemy import select

from services.notifications import queue
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import service
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage, body_for
from services.notifications.webhooks.urls import unsafe_reason
from shared.service import Deadlines, ServiceContext

BATCH = 200
_ENABLED = WebhookDelivery.endpoint_id.in_(select(WebhookEndpoint.id).where(WebhookEndpoint.enabled))


class Attempt:
    """What one POST came to."""

    def __init__(
        self, seconds: float, status_code: int | None = None, response: str | None = None, error: str | None = None
    ) -> None:
        self.seconds, self.status_code, self.response, self.error = seconds, status_code, response, error


async def post(client: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str], timeout: float) -> Attempt:
    """POST the body; keep the status and the first 2 KB of the answer (read no further)."""
    started = time.perf_counter()
    try:
        async with client.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            kept = b""
            while len(kept) < service.RESPONSE_KEPT and (chunk := await response.content.read(service.RESPONSE_KEPT)):
                kept += chunk
            return Attempt(time.perf_counter() - started, response.status, service.response_excerpt(kept))
    except TimeoutError:
        return Attempt(time.perf_counter() - started, error=f"Timeout: no answer within {timeout:g} s")
    except aiohttp.ClientError as exc:
        return Attempt(time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}"[:500])


async def attempt_all(
    context: ServiceContext,
    client: aiohttp.ClientSession,
    limit: asyncio.Semaphore,
    work: list[tuple[WebhookEndpoint, WebhookMessage]],
) -> list[tuple[datetime, Attempt]]:
    """POST each message to its endpoint (``limit`` at a time), signed at the instant it goes;
    an endpoint whose URL now resolves to a forbidden address is not called."""
    settings = NotificationsSettings.of(context.settings)
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


async def send_due(context: ServiceContext, client: aiohttp.ClientSession, now: datetime) -> int:
    """Claim, send and record the deliveries due at ``now``, a batch at a time; how many were tried."""
    settings = NotificationsSettings.of(context.settings)
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
    async with client_session(NotificationsSettings.of(context.settings)) as client:
        await send_due(context, client, now)


def client_session(settings: NotificationsSettings) -> aiohttp.ClientSession:
    """The sender's HTTP client: as many connections as requests in flight, no cookies kept."""
    connector = aiohttp.TCPConnector(limit=settings.notifications_webhook_concurrency)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


WEBHOOKS = Deadlines(
    "webhooks",
    next_due=earliest,
    sweep=sweep,
    max_sleep=lambda settings: NotificationsSettings.of(settings).notifications_worker_max_sleep,
)
