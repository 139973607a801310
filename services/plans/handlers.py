"""Events the plans service consumes: the handler table."""

from __future__ import annotations

from services.plans.models import calendars
from services.plans.reminders import replan_for_calendar
from shared.consumer import Subscription
from shared.events import CloudEvent
from shared.unit_calendars import CALENDAR_CHANGED
from shared.uow import UnitOfWork

follow_calendar = calendars.handlers()[CALENDAR_CHANGED]


async def on_calendar_changed(uow: UnitOfWork, event: CloudEvent) -> None:
    """Keep the calendar copy; a day declared worked or off moves the reminders that count over it."""
    await follow_calendar(uow, event)
    if event.data.get("unit") is None:  # office hours do not move date-based reminders
        await replan_for_calendar(uow, uow.clock.now())


SUBSCRIPTIONS = [
    Subscription(topic="cchc.dossiers", handlers={CALENDAR_CHANGED: on_calendar_changed}),
]
