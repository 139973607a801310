"""Events the notifications service consumes: the handler table."""

from __future__ import annotations

from services.notifications.letters.handlers import DOSSIER_EVENTS
from services.notifications.models import directory, kernel
from services.notifications.reminders.handlers import SUBSCRIPTIONS as REMINDERS
from services.notifications.webhooks.handlers import SUBSCRIPTIONS as WEBHOOKS
from shared.api_keys import replica_handlers
from shared.consumer import Subscription

SUBSCRIPTIONS = [
    Subscription(topic="cchc.plans", handlers={**directory.handlers(), **replica_handlers(kernel.api_keys)}),
    DOSSIER_EVENTS,
    *REMINDERS,
    *WEBHOOKS,  # every event of every topic, for the webhook endpoints that want it
]
