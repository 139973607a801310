"""The reminder worker: dispatches new notices at once and sends the daily digests at their hour."""

from __future__ import annotations

from datetime import datetime

from services.notifications import queue
from services.notifications.reminders import service
from shared.deadline_scheduler import DeadlineScheduler
from shared.service import ServiceContext


async def run_once(context: ServiceContext, now: datetime) -> None:
    """Dispatch every pending notice, then the digests due (``now`` is the scheduler's instant)."""
    settings = context.settings
    while True:
        async with context.uow() as uow:
            handled = await service.dispatch_pending(uow, settings)
            await uow.commit()
        if handled < service.BATCH:
            break
    async with context.uow() as uow:
        await service.send_digests(uow, settings)
        await uow.commit()


def reminder_scheduler(context: ServiceContext) -> DeadlineScheduler:
    async def earliest() -> datetime | None:
        async with context.uow() as uow:
            return await service.next_due(uow, context.settings)

    async def sweep(now: datetime) -> None:
        await run_once(context, now)

    return DeadlineScheduler(
        "notifications.reminders",
        next_due=earliest,
        sweep=sweep,
        clock=context.clock,
        max_sleep=context.settings.notifications_worker_max_sleep,
    )


async def reminder_worker(context: ServiceContext) -> None:
    scheduler = reminder_scheduler(context)
    queue.register_worker(context.db.engine.sync_engine, service.QUEUE, scheduler)
    try:
        await scheduler.run()
    finally:
        queue.unregister_worker(context.db.engine.sync_engine, service.QUEUE)
