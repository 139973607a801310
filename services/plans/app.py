"""The plans service: CCHC plans, tasks, targets, progress, and the units registry."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.access import ACCESS
from services.plans.api import router
from services.plans.demo import load_demo
from services.plans.graphql import Query
from services.plans.graphql_mutations import Mutation
from services.plans.handlers import SUBSCRIPTIONS
from services.plans.models import Base, Unit, kernel
from services.plans.reminders import REMINDERS, replan_on_start
from services.plans.settings import PlansSettings
from shared.request_limits import BodyRule
from shared.service import ServiceDefinition
from shared.units import UnitSnapshot, tree_snapshot


async def unit_tree(session: AsyncSession) -> UnitSnapshot:
    """The registry as a tree (principals' unit scopes are read in it)."""
    return await tree_snapshot(session, Unit.__table__)


service = ServiceDefinition(
    name="plans",
    settings=PlansSettings,
    description="CCHC plans, their tasks, schedules, targets and progress; the registry of units.",
    metadata=Base.metadata,
    tables=kernel,
    migrations=Path(__file__).parent / "migrations",
    unit_tree=unit_tree,
    router=router,
    access=ACCESS,
    graphql_query=Query,
    graphql_mutation=Mutation,
    subscriptions=SUBSCRIPTIONS,
    workers=[replan_on_start],
    deadlines=[REMINDERS],
    load_demo=load_demo,
    # the table's own limit is checked by the route; the form's other fields and framing take a little more
    body_rules=[
        BodyRule(
            r"/v1/plans:import",
            lambda settings: PlansSettings.of(settings).plans_import_max_bytes + 64 * 1024,
            multipart=True,
            timeout=lambda settings: PlansSettings.of(settings).plans_import_timeout,
        )
    ],
)
