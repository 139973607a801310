"""Every domain event of every service goes to :func:`fan_out`, which queues it for the endpoints
whose filter takes it (most events find none and cost one cached lookup)."""

from __future__ import annotations

from services.catalog import SERVICE_NAMES
from services.notifications.webhooks.service import fan_out
from shared.consumer import ANY_TYPE, Subscription
from shared.events import topic_of

SUBSCRIPTIONS = [Subscription(topic=topic_of(name), handlers={ANY_TYPE: fan_out}) for name in SERVICE_NAMES]
