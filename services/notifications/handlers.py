"""Events the notifications service consumes: the handler table."""

from __future__ import annotations

from services.notifications import service
from services.notifications.reminders.handlers import SUBSCRIPTIONS as REMINDERS
from services.notifications.schemas import UnitUpsertedIn
from services.notifications.webhooks.handlers import SUBSCRIPTIONS as WEBHOOKS
from shared.consumer import Subscription
from shared.events import CloudEvent
from shared.uow import UnitOfWork


async def on_unit_upserted(uow: UnitOfWork, event: CloudEvent) -> None:
    await service.record_unit(uow, event.data_as(UnitUpsertedIn))


SUBSCRIPTIONS = [
    Subscription(topic="cchc.plans", handlers={"vn.cchc.unit.upserted.v1": on_unit_upserted}),
    *REMINDERS,
    *WEBHOOKS,  # every event of every topic, for the webhook endpoints that want it
]
