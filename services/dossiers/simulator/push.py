"""Push mode: the simulated province posts its changes as DongBoHoSoMC batches to a receiver."""

from __future__ import annotations

import asyncio
import logging

import httpx

from services.dossiers.connectors.retry import Backoff, pause
from services.dossiers.simulator.province import Province
from shared.clock import Clock

log = logging.getLogger(__name__)


class Pusher:
    """Posts ``{"service": "DongBoHoSoMC", "isUpdating": ..., "data": [...]}`` batches of the
    province's changes to ``url``: first sendings with ``isUpdating`` false, resends true.
    Connection errors and 5xx answers are retried with backoff; a batch refused with a 4xx is
    logged and skipped."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        province: Province,
        clock: Clock,
        *,
        token: str | None = None,
        batch_size: int = 500,
        interval: float = 1.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.client, self.url, self.province, self.clock = client, url, province, clock
        self.batch_size, self.interval = batch_size, interval
        self.backoff = backoff or Backoff(0.5, 30.0)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._position = 0
        self._sent: set[str] = set()

    async def push_once(self, stop: asyncio.Event | None = None) -> int:
        """Bring the province up to now and push every change since the last push; returns records pushed."""
        self.province.advance(self.clock.now())
        pushed = 0
        while True:
            codes, position, has_more = self.province.records.page(self._position, self.batch_size)
            resent = [code for code in codes if code in self._sent]
            for updating, batch in ((False, [c for c in codes if c not in self._sent]), (True, resent)):
                if batch and not await self._post(updating, [self.province.record(c) for c in batch], stop):
                    return pushed  # stopped while retrying: this page is pushed again next time
                self._sent.update(batch)
            self._position = position
            pushed += len(codes)
            if not has_more:
                return pushed

    async def run(self, stop: asyncio.Event) -> None:
        """Push every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            await self.push_once(stop)
            await pause(stop, self.interval)

    async def _post(self, updating: bool, records: list[dict[str, object]], stop: asyncio.Event | None) -> bool:
        """Post one batch until it is answered (True), or until ``stop`` is set (False)."""
        body = {"service": "DongBoHoSoMC", "isUpdating": updating, "data": records}
        while True:
            try:
                response = await self.client.post(self.url, json=body, headers=self._headers)
                if response.status_code < 500:
                    break
                problem = f"HTTP {response.status_code}"
            except httpx.TransportError as error:
                problem = type(error).__name__
            delay = self.backoff.next_delay()
            log.warning("push of %d records failed (%s); retrying in %.1f s", len(records), problem, delay)
            if await pause(stop, delay):
                return False
        self.backoff.reset()
        if response.is_error:
            log.error("receiver refused a batch of %d records: HTTP %d", len(records), response.status_code)
        return True

