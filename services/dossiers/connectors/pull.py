"""The pull connector: reads the provincial system's change feed page by page (docs/provincial-pull-api.md).

Each page is handed to a :class:`PageSink` that ingests its records and saves the cursor of the
next page in one transaction, so a restart resumes where the last applied page ended and a page
that failed to apply is fetched again. The cursor moves only from the one the page was read at,
so replicas polling the same feed apply each page once. Logs carry no record content (it is personal data).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import httpx
from prometheus_client import Counter

from shared.aio import pause
from shared.retrying import Stopped, with_backoff

log = logging.getLogger(__name__)
PULL_RECORDS = Counter("cchc_pull_records_total", "Records a pull connector fetched and applied", ["source"])
PULL_ERRORS = Counter("cchc_pull_errors_total", "Failed polls of a pull connector, by kind", ["source", "kind"])


class PageSink(Protocol):
    async def load_cursor(self, source: str) -> str | None: ...

    async def apply_page(self, source: str, records: list[dict], cursor: str | None, next_cursor: str) -> bool:
        """Ingest ``records`` and move ``source`` from ``cursor`` to ``next_cursor`` in one transaction.

        False, with nothing stored, when the saved cursor is no longer ``cursor``: another
        replica applied the page meanwhile.
        """
        ...


class FeedError(Exception):
    """The feed answered, but not with a page: ``kind`` says how (for logs and metrics)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class ConfigurationError(FeedError):
    """A 4xx other than 429: the URL, the token or the cursor is wrong; retrying soon will not help."""


class PullConnector:
    """Polls ``url`` (``?cursor=&limit=``) for pages of records and applies them to ``sink``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        sink: PageSink,
        *,
        source: str = "dvcqg",
        page_size: int = 500,
        poll_interval: float = 30.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
        token: str | None = None,
    ) -> None:
        self.client, self.url, self.sink, self.source = client, url, sink, source
        self.page_size, self.poll_interval = page_size, poll_interval
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def poll_once(self) -> int:
        """Fetch and apply pages from the saved cursor until the feed has no more; returns records applied."""
        cursor = await self.sink.load_cursor(self.source)
        applied = 0
        while True:
            records, next_cursor, has_more = await self._page(cursor)
            if has_more and not records and next_cursor == cursor:
                raise FeedError("bad_response", "more pages announced but the cursor did not move")
            if records or next_cursor != cursor:
                if not await self.sink.apply_page(self.source, records, cursor, next_cursor):
                    cursor = await self.sink.load_cursor(self.source)  # another replica is ahead: follow it
                    continue
                PULL_RECORDS.labels(self.source).inc(len(records))
                applied += len(records)
            cursor = next_cursor
            if not has_more:
                return applied

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Poll every ``poll_interval`` seconds until ``stop`` is set; back off after failures."""
        retrying = with_backoff(
            initial=self.backoff_initial,
            maximum=self.backoff_max,
            patient_on=ConfigurationError,
            stop=stop,
            on_failure=self._failed,
        )
        while stop is None or not stop.is_set():
            try:
                async for attempt in retrying:  # the connector must outlive any one failure
                    with attempt:
                        await self.poll_once()
            except Stopped:
                return
            if await pause(stop, self.poll_interval):
                return

    def _failed(self, error: BaseException, delay: float) -> None:
        """Count and log a failed poll (never the record content)."""
        if isinstance(error, ConfigurationError):
            PULL_ERRORS.labels(self.source, error.kind).inc()
            log.error("pull from %s: configuration error (%s); retrying in %.0f s", self.source, error, delay)
            return
        kind = (
            error.kind
            if isinstance(error, FeedError)
            else "transport"
            if isinstance(error, httpx.TransportError)
            else "apply"
        )
        PULL_ERRORS.labels(self.source, kind).inc()
        detail = str(error) if isinstance(error, FeedError) else type(error).__name__
        log.warning("pull from %s failed (%s: %s); retrying in %.1f s", self.source, kind, detail, delay)

    async def _page(self, cursor: str | None) -> tuple[list[dict], str, bool]:
        response = await self.client.get(
            self.url, params={"cursor": cursor or "", "limit": self.page_size}, headers=self._headers
        )
        status = response.status_code
        if status >= 500 or status == 429:
            raise FeedError("server", f"HTTP {status}")
        if status >= 400:
            raise ConfigurationError("configuration", f"HTTP {status}")
        try:
            body = response.json()
            records, next_cursor, has_more = body["data"], body["next_cursor"], body["has_more"]
        except (ValueError, TypeError, KeyError) as error:
            raise FeedError("bad_response", f"not a page ({type(error).__name__})") from error
        if not (isinstance(records, list) and isinstance(next_cursor, str) and isinstance(has_more, bool)):
            raise FeedError("bad_response", "not a page (wrong field types)")
        return records, next_cursor, has_more
