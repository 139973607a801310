"""The dossier events the letters consume (merged into the service's handler table)."""

from __future__ import annotations

from services.notifications.letters import batch, service
from services.notifications.letters.dossiers import record
from services.notifications.letters.schemas import (
    DossierFactsIn,
    DossierRescheduledIn,
    DossierResolvedIn,
    LatenessIn,
)
from services.notifications.models import calendars
from shared.consumer import Handler, Subscription
from shared.events import CloudEvent
from shared.uow import UnitOfWork


async def on_dossier_received(uow: UnitOfWork, event: CloudEvent) -> None:
    await record(uow.session, event.data_as(DossierFactsIn), uow.clock.now())


async def on_dossier_due_soon(uow: UnitOfWork, event: CloudEvent) -> None:
    batch.gather(uow, event.data_as(LatenessIn), overdue=False)


async def on_dossier_overdue(uow: UnitOfWork, event: CloudEvent) -> None:
    batch.gather(uow, event.data_as(LatenessIn), overdue=True)


async def on_dossier_overdue_after_apology(uow: UnitOfWork, event: CloudEvent) -> None:
    await service.on_overdue_after_apology(uow, event.data_as(LatenessIn))


async def on_dossier_rescheduled(uow: UnitOfWork, event: CloudEvent) -> None:
    data = event.data_as(DossierRescheduledIn)
    await service.on_rescheduled(uow, data.ma_ho_so, data.new_due_at)


async def on_dossier_resolved(uow: UnitOfWork, event: CloudEvent) -> None:
    await service.on_resolved(uow, event.data_as(DossierResolvedIn).ma_ho_so)


def _after_gathered(handler: Handler) -> Handler:
    """The handler, run once the lateness events gathered before it are handled (event order kept)."""

    async def handle(uow: UnitOfWork, event: CloudEvent) -> None:
        await batch.flush(uow)
        await handler(uow, event)

    return handle


DOSSIER_EVENTS = Subscription(
    topic="cchc.dossiers",
    handlers={
        **{
            type_: _after_gathered(handler)
            for type_, handler in {
                **calendars.handlers(),
                "vn.cchc.dossier.received.v1": on_dossier_received,
                "vn.cchc.dossier.overdue_after_apology.v1": on_dossier_overdue_after_apology,
                "vn.cchc.dossier.rescheduled.v1": on_dossier_rescheduled,
                "vn.cchc.dossier.resolved.v1": on_dossier_resolved,
            }.items()
        },
        "vn.cchc.dossier.due_soon.v1": on_dossier_due_soon,  # gathered: the batch's handled as sets
        "vn.cchc.dossier.overdue.v1": on_dossier_overdue,
    },
)
