"""The scoring service: Indicators and scorecards (on-time rates, QĐ 766) computed live from events, checked against plan targets."""

from __future__ import annotations

from pathlib import Path

from services.scoring.access import ACCESS
from services.scoring.api import router
from services.scoring.graphql import Query
from services.scoring.handlers import SUBSCRIPTIONS
from services.scoring.models import Base, directory, kernel
from services.scoring.publisher import PUBLISHER, poking_the_publisher
from services.scoring.settings import ScoringSettings
from shared.service import ServiceDefinition

service = ServiceDefinition(
    name="scoring",
    settings=ScoringSettings,
    description="Indicators and scorecards (on-time rates, QĐ 766) computed live from events, checked against plan targets.",
    metadata=Base.metadata,
    tables=kernel,
    migrations=Path(__file__).parent / "migrations",
    unit_tree=directory.snapshot,
    router=router,
    access=ACCESS,
    graphql_query=Query,
    subscriptions=poking_the_publisher(SUBSCRIPTIONS),
    deadlines=[PUBLISHER],
)
