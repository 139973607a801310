"""The reminder scheduler: dispatches new notices at once and sends the daily digests at their hour."""

from __future__ import annotations

from datetime import datetime

from services.notifications.reminders import service
from services.notifications.settings import NotificationsSettings
from shared.service import Deadlines, ServiceContext


async def run_once(context: ServiceContext, now: datetime) -> None:
    """Dispatch every pending notice, then the digests due (``now`` is the scheduler's instant)."""
    settings = NotificationsSettings.of(context.settings)
    while True:
        async with context.uow() as uow:
            handled = await service.dispatch_pending(uow, settings)
            await uow.commit()
        if handled < service.BATCH:
            break
    async with context.uow() as uow:
        await service.send_digests(uow, settings)
        await uow.commit()


async def earliest(context: ServiceContext) -> datetime | None:
    async with context.uow() as uow:
        return await service.next_due(uow, NotificationsSettings.of(context.settings))


REMINDERS = Deadlines(
    "reminders",
    next_due=earliest,
    sweep=run_once,
    max_sleep=lambda settings: NotificationsSettings.of(settings).notifications_worker_max_sleep,
)
