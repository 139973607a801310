"""The delivery scheduler: sleeps until a delivery is due, sends the due ones, records every attempt."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import httpx
from sqlalchemy import select

from services.notifications import queue
from services.notifications.channels import service
from services.notifications.channels.adapters import Channels, Outgoing, SendFailure
from services.notifications.channels.models import Delivery
from services.notifications.letters import sending
from services.notifications.settings import NotificationsSettings
from shared.service import Deadlines, ServiceContext

log = logging.getLogger(__name__)
BATCH = 50


async def send_due(context: ServiceContext, channels: Channels, now: datetime) -> int:
    """Claim, send and record the deliveries due at ``now``, a batch at a time; how many were sent or tried."""
    total = 0
    while True:
        async with context.uow() as uow:
            ids = await queue.claim_due(uow.session, Delivery, now, BATCH)
            await uow.commit()
        if not ids:
            return total
        async with context.uow() as uow:  # read, then let go: SQLite must not stay locked while we send
            work = await service.load_outgoing(uow.session, ids)
            unattached = [d for d, files in work if not files and channels.configured(d.channel)]
            pdfs = await sending.attachments(uow.session, unattached)  # rendered only if they can go
        started = context.clock.now()
        outcomes = await asyncio.gather(
            *(
                channels.send(d.channel, Outgoing(d.id, d.to, d.subject, d.text, [*files, *pdfs.get(d.id, [])]))
                if files or d.id in pdfs or not sending.needs_pdf(d) or not channels.configured(d.channel)
                else _unrenderable()
                for d, files in work
            )
        )
        async with context.uow() as uow:
            claimed_ids = [claimed.id for claimed, _ in work]
            current = {d.id: d for d in await uow.session.scalars(select(Delivery).where(Delivery.id.in_(claimed_ids)))}
            for (claimed, _), (outcome, seconds) in zip(work, outcomes, strict=True):
                delivery = current.get(claimed.id)
                if delivery is None:
                    continue
                service.record_outcome(
                    uow.session,
                    delivery,
                    outcome,
                    started_at=started,
                    seconds=seconds,
                    settings=NotificationsSettings.of(context.settings),
                )
                if isinstance(outcome, SendFailure):  # the reason may hold an address: not logged
                    log.info(
                        "delivery %s over %s: attempt %s %s",
                        delivery.id,
                        delivery.channel,
                        delivery.attempts,
                        delivery.status,
                    )
            await sending.deliveries_settled(uow, list(current.values()))  # the letters follow their messages
            await uow.commit()
        total += len(ids)
        if len(ids) < BATCH:
            return total


async def _unrenderable() -> tuple[SendFailure, float]:
    return SendFailure("the letter's PDF could not be rendered (see the service log)", retryable=False), 0.0


async def earliest(context: ServiceContext) -> datetime | None:
    async with context.uow() as uow:
        return await queue.next_due(uow.session, Delivery)


async def sweep(context: ServiceContext, now: datetime) -> None:
    """Send what is due (the kernel sweeps only when :func:`earliest` says something is)."""
    async with httpx.AsyncClient() as client:
        await send_due(context, Channels.of(NotificationsSettings.of(context.settings), client), now)


DELIVERIES = Deadlines(
    "deliveries",
    next_due=earliest,
    sweep=sweep,
    max_sleep=lambda settings: NotificationsSettings.of(settings).notifications_worker_max_sleep,
)
