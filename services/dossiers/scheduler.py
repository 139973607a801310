"""The late-detection worker: one :class:`DeadlineScheduler` per service process."""

from __future__ import annotations

from datetime import datetime

from services.dossiers import late
from shared.deadline_scheduler import DeadlineScheduler
from shared.service import ServiceContext

KEY = "late_detection"


def scheduler_of(context: ServiceContext) -> DeadlineScheduler:
    scheduler = context.state.get(KEY)
    if scheduler is None:

        async def next_due() -> datetime | None:
            async with context.uow() as uow:
                return await late.next_alarm_at(uow)

        async def sweep(now: datetime) -> None:
            await sweep_all(context, now)

        scheduler = DeadlineScheduler(
            KEY, next_due=next_due, sweep=sweep, clock=context.clock, max_sleep=context.settings.dossiers_late_max_sleep
        )
        context.state[KEY] = scheduler
    return scheduler


async def sweep_all(context: ServiceContext, now: datetime) -> int:
    """Fire every alarm due at ``now``, a committed batch at a time."""
    total = 0
    while True:
        async with context.uow() as uow:
            handled = await late.sweep_batch(uow, now)
            await uow.commit()
        if handled == 0:  # a due_soon that rang late leaves an overdue due now: loop until nothing is due
            return total
        total += handled


def poke(context: ServiceContext) -> None:
    """A write may have brought an alarm forward: let the scheduler look again."""
    scheduler_of(context).poke()


async def run_late_detection(context: ServiceContext) -> None:
    await scheduler_of(context).run()
