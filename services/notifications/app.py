"""The notifications service: apology letters, reminders, and the channels that deliver them."""

from __future__ import annotations

from pathlib import Path

from services.notifications.access import ACCESS
from services.notifications.api import router
from services.notifications.channels.worker import DELIVERIES
from services.notifications.demo import load_demo
from services.notifications.graphql import Mutation, Query
from services.notifications.handlers import SUBSCRIPTIONS
from services.notifications.models import Base, directory, kernel
from services.notifications.reminders.worker import REMINDERS
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks.worker import WEBHOOKS
from shared.service import ServiceDefinition

service = ServiceDefinition(
    name="notifications",
    settings=NotificationsSettings,
    description="Apology letters, deadline reminders and their delivery; the recipient directory.",
    metadata=Base.metadata,
    tables=kernel,
    migrations=Path(__file__).parent / "migrations",
    unit_tree=directory.snapshot,
    router=router,
    access=ACCESS,
    graphql_query=Query,
    graphql_mutation=Mutation,
    subscriptions=SUBSCRIPTIONS,
    deadlines=[DELIVERIES, WEBHOOKS, REMINDERS],
    load_demo=load_demo,
)
