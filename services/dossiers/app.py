"""The dossiers service: TTHC dossiers, their legal deadlines, the provincial one-stop integration and late detection."""

from __future__ import annotations

from pathlib import Path

from services.dossiers.access import ACCESS
from services.dossiers.api import dossier_body, router
from services.dossiers.demo import load_demo
from services.dossiers.graphql import Mutation, Query
from services.dossiers.handlers import SUBSCRIPTIONS
from services.dossiers.models import Base, directory, kernel
from services.dossiers.scheduler import LATE_DETECTION
from services.dossiers.settings import DossiersSettings
from services.dossiers.sync.pulling import run_pull
from shared.hot_reads import HotRead
from shared.request_limits import BodyRule
from shared.service import ServiceDefinition

service = ServiceDefinition(
    name="dossiers",
    settings=DossiersSettings,
    description="TTHC dossiers, their legal deadlines, the provincial one-stop integration and late detection.",
    metadata=Base.metadata,
    tables=kernel,
    migrations=Path(__file__).parent / "migrations",
    unit_tree=directory.snapshot,
    router=router,
    access=ACCESS,
    graphql_query=Query,
    graphql_mutation=Mutation,
    subscriptions=SUBSCRIPTIONS,
    workers=[run_pull],
    deadlines=[LATE_DETECTION],
    load_demo=load_demo,
    hot_reads=[HotRead("/v1/dossiers/{ma_ho_so}", dossier_body)],
    body_rules=[BodyRule(r"/v1/sync/dvcqg", lambda settings: DossiersSettings.of(settings).dossiers_sync_max_bytes)],
)
