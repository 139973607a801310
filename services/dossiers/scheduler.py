"""Late detection: the deadline scheduler the dossiers service declares (the kernel runs and wakes it)."""

from __future__ import annotations

from datetime import datetime

from services.dossiers import late
from services.dossiers.settings import DossiersSettings
from shared.service import Deadlines, ServiceContext


async def next_alarm_at(context: ServiceContext) -> datetime | None:
    async with context.uow() as uow:
        return await late.next_alarm_at(uow)


async def sweep_all(context: ServiceContext, now: datetime) -> None:
    """Fire every alarm due at ``now``, a committed batch at a time."""
    while True:
        async with context.uow() as uow:
            handled = await late.sweep_batch(uow, now)
            await uow.commit()
        if handled == 0:  # a due_soon that rang late leaves an overdue due now: loop until nothing is due
            return


LATE_DETECTION = Deadlines(
    "late_detection",
    next_due=next_alarm_at,
    sweep=sweep_all,
    max_sleep=lambda settings: DossiersSettings.of(settings).dossiers_late_max_sleep,
)
