"""The pull connector wired to this service: pages ingested and cursors saved in one transaction."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
from sqlalchemy import Insert, Update, update

from services.dossiers.connectors.pull import PullConnector
from services.dossiers.models import PullCursor
from services.dossiers.settings import DossiersSettings
from services.dossiers.sync import ingest
from services.dossiers.sync.ingest import Outcome
from shared.db import rowcount, upsert
from shared.service import ServiceContext
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


class DatabaseSink:
    """A :class:`~services.dossiers.connectors.pull.PageSink` on the service's own database."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    async def load_cursor(self, source: str) -> str | None:
        async with self.context.uow() as uow:
            saved = await uow.session.get(PullCursor, source)
            return None if saved is None else saved.cursor

    async def apply_page(self, source: str, records: list[dict], cursor: str | None, next_cursor: str) -> bool:
        async with self.context.uow() as uow:
            # The cursor first: its row lock makes a replica applying the same page wait, then find it moved.
            if not await _advance_cursor(uow, source, cursor, next_cursor):
                return False
            tolerance = timedelta(hours=DossiersSettings.of(self.context.settings).dossiers_future_tolerance_hours)
            results = await ingest.ingest_dossiers(uow, records, tolerance=tolerance)
            ingest.audit_batch(uow, "dossier.pull", source, results)
            await uow.commit()
        rejected = [r for r in results if r.result is Outcome.rejected]
        if rejected:  # reported by position and field only: record content is personal data
            log.warning(
                "pull %s: %d of %d records rejected, e.g. index %d: %s",
                source, len(rejected), len(results), rejected[0].index, [e["field"] for e in rejected[0].errors],
            )  # fmt: skip
        return True


async def _advance_cursor(uow: UnitOfWork, source: str, cursor: str | None, next_cursor: str) -> bool:
    """Move ``source`` from ``cursor`` to ``next_cursor``; False when it no longer stands at ``cursor``."""
    table, now = PullCursor.__table__, uow.clock.now()
    statement: Insert | Update
    if cursor is None:
        statement = upsert(uow.session, table).values(source=source, cursor=next_cursor, updated_at=now)
        statement = statement.on_conflict_do_nothing(index_elements=["source"])
    else:
        statement = (
            update(table)
            .where(table.c.source == source, table.c.cursor == cursor)
            .values(cursor=next_cursor, updated_at=now)
        )
    return rowcount(await uow.session.execute(statement)) == 1


async def run_pull(context: ServiceContext) -> None:
    """Follow the provincial change feed when ``CCHC_DOSSIERS_PULL_URL`` is set."""
    settings = DossiersSettings.of(context.settings)
    if not settings.dossiers_pull_url:
        return
    token = settings.dossiers_pull_token.get_secret_value() if settings.dossiers_pull_token else None
    async with httpx.AsyncClient(timeout=30.0) as client:
        connector = PullConnector(
            client,
            settings.dossiers_pull_url,
            DatabaseSink(context),
            page_size=settings.dossiers_pull_page_size,
            poll_interval=settings.dossiers_pull_interval,
            token=token,
        )
        await connector.run()
