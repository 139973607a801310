"""The plans service: CCHC plans, tasks, targets, progress, and the units registry."""

from __future__ import annotations

from pathlib import Path

from services.plans.access import ACCESS
from services.plans.api import router
from services.plans.demo import load_demo
from services.plans.graphql import Query
from services.plans.graphql_mutations import Mutation
from services.plans.handlers import SUBSCRIPTIONS
from services.plans.models import Base, kernel
from services.plans.reminders import REMINDERS, replan_on_start
from shared.service import ServiceDefinition

service = ServiceDefinition(
    name="plans",
    description="CCHC plans, their tasks, schedules, targets and progress; the registry of units.",
    metadata=Base.metadata,
    tables=kernel,
    migrations=Path(__file__).parent / "migrations",
    router=router,
    access=ACCESS,
    graphql_query=Query,
    graphql_mutation=Mutation,
    subscriptions=SUBSCRIPTIONS,
    workers=[replan_on_start],
    deadlines=[REMINDERS],
    load_demo=load_demo,
)
